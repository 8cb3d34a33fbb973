// `make bench`, softmax part: GB/s of the fused kernels on a 64 MiB matrix, held
// to the copy bandwidth, and what the buffer pool saves on a 64 MiB allocation.
//
// Softmax is memory-bound: it reads x once and writes y once, so its GB/s count
// those two streams, the same bytes a copy moves. Target: >= 65% of copy
// bandwidth on one thread.
#include <cstdio>
#include <cstring>
#include <random>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/softmax.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

constexpr size_t kFloats = size_t{16} << 20;  // 64 MiB
constexpr double kTarget = 0.65;              // of copy bandwidth, one thread

using Rows = void (*)(const float*, float*, int64_t, int64_t);

double gbs(double seconds) { return 2.0 * kFloats * sizeof(float) / seconds / 1e9; }

// One line, judged on the median.
void report(const char* name, int64_t n, Timing t, const Peak& peak, bool judged) {
  double rate = gbs(t.median), share = rate / peak.copy_gbs;
  std::printf("  %-14s n=%-5lld %6.1f GB/s  %5.1f%% of copy (best %5.1f%%)", name, static_cast<long long>(n),
              rate, 100 * share, 100 * gbs(t.best) / peak.copy_gbs);
  if (judged) std::printf("  (target %.0f%%: %s)", 100 * kTarget, share >= kTarget ? "PASS" : "MISS");
  std::printf("\n");
}

}  // namespace

void bench_softmax(const Peak& peak) {
  using namespace kernels;
  std::printf("softmax over a 64 MiB matrix (GB/s = one read of x + one write of y):\n");
  float* x = pool_acquire(kFloats);
  float* y = pool_acquire(kFloats);
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> dist(-8.0f, 8.0f);
  for (size_t i = 0; i < kFloats; ++i) x[i] = dist(gen), y[i] = 0.0f;

  // The target is softmax's, on one thread; log_softmax is shown beside it.
  for (int64_t n : {64, 512, 4096}) {
    int64_t rows = int64_t(kFloats) / n;
    for (auto [name, kernel] :
         {std::pair<const char*, Rows>{"softmax", softmax_rows}, {"log_softmax", log_softmax_rows}}) {
      Rows run = kernel;  // clang 14 cannot capture a structured binding
      bool judged = peak.threads == 1 && run == softmax_rows;
      report(name, n, time_runs([&] { run(x, y, rows, n); }, 15, 2), peak, judged);
    }
  }
  // The naive twin runs on one thread whatever the count: it shows the scale.
  report("softmax_naive", 512,
         time_runs([&] { softmax_rows_naive(x, y, int64_t(kFloats) / 512, 512); }, 3, 1), peak, false);
  pool_release(x, kFloats);
  pool_release(y, kFloats);

  // A fresh buffer pays a page fault and a zeroing per 4 KiB page on first touch;
  // a buffer from the pool was touched before.
  auto acquire_and_touch = [] {
    float* buffer = pool_acquire(kFloats);
    std::memset(buffer, 0, kFloats * sizeof(float));
    pool_release(buffer, kFloats);
  };
  double fresh = median_seconds([&] { pool_trim(), acquire_and_touch(); }, 5, 1);
  double reused = median_seconds(acquire_and_touch, 5, 1);
  std::printf("  pool: acquire + first touch of 64 MiB: fresh %.1f ms, reused %.1f ms (%.0fx)\n", 1e3 * fresh,
              1e3 * reused, fresh / reused);
}

}  // namespace heed::bench
