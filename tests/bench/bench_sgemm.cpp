// sgemm against this machine's FMA peak: square sizes, the shapes attention
// makes (scores = Q·Kᵀ and out = P·V with head size 64), and a batch of small
// heads. Targets (% of the FMA peak measured in the same run):
//   1 thread:  square 256..2048 >= 88%; attention shapes and the batch >= 80%
//   2 threads: square 1024 and 2048 >= 80%
#include <algorithm>
#include <cstdio>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/sgemm.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

using kernels::GemmArgs;

// A matrix in the memory heed's tensors live in (pool buffers: huge pages when
// big), filled with deterministic, small, non-trivial values.
struct Matrix {
  size_t count;
  float* p;
  Matrix(int64_t n, int seed) : count(size_t(n)), p(kernels::pool_acquire(count)) {
    for (size_t i = 0; i < count; ++i) p[i] = float((i * 7 + size_t(seed)) % 13) * 0.125f - 0.75f;
  }
  ~Matrix() { kernels::pool_release(p, count); }
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
};

// Repetitions so that one row of the table takes well under a second.
int reps_for(double flops) { return flops > 4e9 ? 5 : flops > 2e8 ? 9 : 15; }

// Seconds per call of f, timing batches of calls when one call is too short (a
// few microseconds) for the clock to see clearly.
template <class F>
Timing seconds_per_call(F&& f, double flops, int reps) {
  const int calls = flops < 2e7 ? int(2e7 / flops) : 1;
  Timing t = time_runs(
      [&] {
        for (int i = 0; i < calls; ++i) f();
      },
      reps);
  return {t.median / calls, t.best / calls};
}

// printf pads by bytes, and "·" and "ᵀ" take several: pad by characters instead.
void print_padded(const char* text, int width) {
  int chars = 0;
  for (const char* p = text; *p; ++p) chars += (*p & 0xC0) != 0x80;  // skip UTF-8 continuation bytes
  std::printf("%s%*s", text, std::max(0, width - chars), "");
}

struct Row {
  const Peak& peak;
  // Prints one line, judged on the median; target <= 0 means "no target for this row".
  void print(const char* kernel, const char* shape, double flops, Timing t, double target) const {
    double gflops = flops / t.median * 1e-9, percent = 100.0 * gflops / peak.fma_gflops;
    double best = 100.0 * flops / t.best * 1e-9 / peak.fma_gflops;
    std::printf("  %-6s ", kernel);
    print_padded(shape, 28);
    std::printf(" %9.3f %9.1f %7.1f%% %6.1f%%", t.median * 1e3, gflops, percent, best);
    if (target > 0) std::printf("   >= %2.0f%%  %s", target, percent >= target ? "PASS" : "MISS");
    std::printf("\n");
  }
};

// One op(A)·op(B) of shape (m, k)·(k, n), B stored transposed when trans_b.
Timing time_gemm(void (*kernel)(const GemmArgs&), int64_t m, int64_t k, int64_t n, bool trans_b, int reps) {
  Matrix a(m * k, 1), b(k * n, 2), c(m * n, 0);
  GemmArgs g{.trans_b = trans_b,
             .m = m,
             .n = n,
             .k = k,
             .a = a.p,
             .lda = k,
             .b = b.p,
             .ldb = trans_b ? k : n,
             .c = c.p,
             .ldc = n};
  return seconds_per_call([&] { kernel(g); }, 2.0 * m * n * k, reps);
}

}  // namespace

void bench_sgemm(const Peak& peak) {
  const int threads = num_threads();
  const Row row{peak};
  char shape[64];
  std::printf("\nsgemm, %d thread%s (peak %.1f GFLOP/s)\n", threads, threads == 1 ? "" : "s",
              peak.fma_gflops);
  std::printf("  %-6s ", "kernel");
  print_padded("shape (M,K)·(K,N)", 28);
  std::printf(" %9s %9s %8s %7s   %s\n", "ms", "GFLOP/s", "% peak", "best", "target");

  for (int64_t n : {64, 128, 256, 512, 1024, 2048}) {
    double flops = 2.0 * n * n * n;
    double target = threads == 1 ? (n >= 256 ? 88 : 0) : (n >= 1024 ? 80 : 0);
    std::snprintf(shape, sizeof shape, "square %lld", static_cast<long long>(n));
    row.print("sgemm", shape, flops, time_gemm(kernels::sgemm, n, n, n, false, reps_for(flops)), target);
  }

  struct Attention {
    int64_t m, k, n;
  };
  for (bool trans_b : {false, true}) {
    for (Attention s : {Attention{128, 64, 128}, Attention{512, 64, 512}, Attention{2048, 64, 2048}}) {
      double flops = 2.0 * s.m * s.k * s.n;
      std::snprintf(shape, sizeof shape, "(%lld,%lld)·(%lld,%lld)%s", static_cast<long long>(s.m),
                    static_cast<long long>(s.k), static_cast<long long>(s.k), static_cast<long long>(s.n),
                    trans_b ? " A·Bᵀ" : " A·B");
      row.print("sgemm", shape, flops, time_gemm(kernels::sgemm, s.m, s.k, s.n, trans_b, reps_for(flops)),
                threads == 1 ? 80 : 0);
    }
  }

  {  // 32 independent heads of (64, 64)·(64, 64)
    const int64_t batch = 32, d = 64;
    Matrix a(batch * d * d, 1), b(batch * d * d, 2), c(batch * d * d, 0);
    std::vector<const float*> as, bs;
    std::vector<float*> cs;
    for (int64_t i = 0; i < batch; ++i) {
      as.push_back(a.p + i * d * d);
      bs.push_back(b.p + i * d * d);
      cs.push_back(c.p + i * d * d);
    }
    GemmArgs g{.m = d, .n = d, .k = d, .lda = d, .ldb = d, .ldc = d};
    const double flops = 2.0 * batch * d * d * d;
    Timing t = seconds_per_call([&] { kernels::sgemm_batched(g, as.data(), bs.data(), cs.data(), batch); },
                                flops, 15);
    row.print("batch", "32 x (64,64)·(64,64)", flops, t, threads == 1 ? 80 : 0);
  }

  for (int64_t n : {64, 128, 256, 512}) {  // the plain triple loop, for scale
    double flops = 2.0 * n * n * n;
    std::snprintf(shape, sizeof shape, "square %lld", static_cast<long long>(n));
    row.print("naive", shape, flops, time_gemm(kernels::sgemm_naive, n, n, n, false, 3), 0);
  }

  // A single column or row of C reads each element of the matrix once: memory-bound,
  // so its rate is the matrix's bytes per second, next to the copy bandwidth.
  std::printf("matrix · vector, GB/s of the 64 MiB matrix read (copy: %.1f GB/s):\n", peak.copy_gbs);
  struct Gemv {
    int64_t m, k, n;
    bool trans_b;
    const char* shape;
  };
  for (Gemv s : {Gemv{4096, 4096, 1, false, "(4096,4096)·(4096,1)"},
                 Gemv{1, 4096, 4096, false, "(1,4096)·(4096,4096)"},
                 Gemv{1, 4096, 4096, true, "(1,4096)·(4096,4096)ᵀ"}}) {
    Timing t = time_gemm(kernels::sgemm, s.m, s.k, s.n, s.trans_b, 9);
    const double bytes = 4.0 * double(s.k) * double(std::max(s.m, s.n));
    std::printf("  gemv   ");
    print_padded(s.shape, 28);
    std::printf(" %9.3f %6.1f GB/s (best %.1f)\n", t.median * 1e3, bytes / t.median * 1e-9,
                bytes / t.best * 1e-9);
  }
}

}  // namespace heed::bench
