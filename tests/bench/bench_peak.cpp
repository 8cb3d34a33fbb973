// The machine's own ceilings, measured in the same run as the kernels they judge.
//
//   FMA peak: each thread runs CHAINS independent vector FMA chains. One chain
//   waits ~4 cycles per FMA, so covering 2 FMA units needs >= 8 chains; 12
//   leaves slack. flops = threads * iterations * CHAINS * width * 2.
//   Copy bandwidth: each thread copies its slice of a 256 MiB array into
//   another (both touched first, so no page faults are timed); bytes read +
//   bytes written per second. The arrays come from the pool, as tensors and the
//   softmax bench's matrices do (huge pages), so the kernels are held to a copy
//   on the same kind of memory.
// Each ceiling is the best of 9 runs, not their median: a ceiling is what the
// machine can do, and on a shared host other tenants only ever slow a run down
// (a median once read 74 GFLOP/s on a 100 GFLOP/s core, putting every kernel
// above 100%).
#include <cstring>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/simd.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

using V = simd::Vec;
constexpr int CHAINS = 12;
constexpr int64_t ITERATIONS = 80'000'000 / V::width;  // ~20 ms per run at ~3 GHz

float fma_loop(float seed) {
  V acc[CHAINS];
  for (int i = 0; i < CHAINS; ++i) acc[i] = V::broadcast(seed + float(i));
  // x -> x * 0.999999 + 1e-6 stays bounded and never goes denormal.
  const V mul = V::broadcast(0.999999f), add = V::broadcast(1e-6f);
  for (int64_t it = 0; it < ITERATIONS; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < CHAINS; ++i) acc[i] = fma(acc[i], mul, add);
  }
  V sum = V::zero();
  for (int i = 0; i < CHAINS; ++i) sum = sum + acc[i];
  return hsum(sum);  // used by the caller, so the loop cannot be dropped
}

// Both arrays live for the whole bench: touching 512 MiB of fresh pages costs ~1 s.
constexpr size_t COPY_FLOATS = (size_t(256) << 20) / sizeof(float);
float *copy_src = nullptr, *copy_dst = nullptr;

// Calls body(thread, threads) on `threads` threads at once.
template <class Body>
void on_threads(int threads, Body&& body) {
#if defined(_OPENMP)
#pragma omp parallel num_threads(threads)
  body(omp_get_thread_num(), omp_get_num_threads());
#else
  (void)threads;
  body(0, 1);
#endif
}

}  // namespace

double measure_fma_peak(int threads) {
  volatile float sink = 0;
  double fma_seconds =
      time_runs([&] { on_threads(threads, [&](int t, int) { sink = sink + fma_loop(float(t)); }); }, 9, 1)
          .best;
  return double(threads) * double(ITERATIONS) * CHAINS * V::width * 2 / fma_seconds * 1e-9;
}

Peak measure_peak(int threads) {
  Peak peak;
  peak.threads = threads;
  peak.fma_gflops = measure_fma_peak(threads);

  if (!copy_src) {
    copy_src = kernels::pool_acquire(COPY_FLOATS);
    copy_dst = kernels::pool_acquire(COPY_FLOATS);
    on_threads(threads, [&](int t, int n) {  // first touch, slice by slice like the copy
      size_t begin = COPY_FLOATS * t / n, end = COPY_FLOATS * (t + 1) / n;
      std::memset(copy_src + begin, 1, (end - begin) * sizeof(float));
      std::memset(copy_dst + begin, 0, (end - begin) * sizeof(float));
    });
  }
  double copy_seconds =
      time_runs(
          [&] {
            on_threads(threads, [&](int t, int n) {
              size_t begin = COPY_FLOATS * t / n, end = COPY_FLOATS * (t + 1) / n;
              std::memcpy(copy_dst + begin, copy_src + begin, (end - begin) * sizeof(float));
            });
          },
          9, 1)
          .best;
  peak.copy_gbs = 2.0 * COPY_FLOATS * sizeof(float) / copy_seconds * 1e-9;
  return peak;
}

}  // namespace heed::bench
