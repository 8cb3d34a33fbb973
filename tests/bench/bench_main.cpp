// `make bench`: every kernel figure as a median after warm-up, for 1 and 2
// threads, next to this machine's own FMA peak and copy bandwidth; then the
// cost of recording ops, what recurrent graphs hold and cost, attention's
// workloads, and the time the training tests take. `heed_bench training`,
// `heed_bench graph`, `heed_bench attention` and `heed_bench efficient` run one part alone.
#include <cstdio>
#include <cstring>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/simd.h"
#include "tests/bench/bench.h"

int main(int argc, char** argv) {
  using namespace heed;
  const char* only = argc > 1 ? argv[1] : "";
  if (std::strcmp(only, "training") == 0) {
    bench::bench_training();
    return 0;
  }
  if (std::strcmp(only, "efficient") == 0) {
    set_num_threads(1);
    bench::bench_efficient(bench::measure_peak(1));
    return 0;
  }
  if (std::strcmp(only, "graph") == 0 || std::strcmp(only, "attention") == 0) {
    set_num_threads(1);
    if (only[0] == 'g')
      bench::bench_graph();
    else
      bench::bench_attention(bench::measure_peak(1));
    return 0;
  }
  std::printf("heed bench: SIMD back end %s (%d floats), OpenMP threads available: %d\n", simd::Vec::name,
              simd::Vec::width, num_threads());
  const int all_threads = num_threads();
  double one_core = 0;
  bench::Peak one_thread;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    bench::Peak peak = bench::measure_peak(threads);
    std::printf("\n== %d thread%s: FMA peak %.1f GFLOP/s, copy bandwidth %.1f GB/s\n", threads,
                threads == 1 ? "" : "s", peak.fma_gflops, peak.copy_gbs);
    if (threads == 1) {
      one_core = peak.fma_gflops;
      one_thread = peak;
    }
    // Two threads on two free cores give ~2x one core's peak. Much less means a
    // core was taken away (a shared host) while the peak was measured, and every
    // % below is held to the wrong ceiling.
    if (threads > 1 && peak.fma_gflops < 1.5 * one_core)
      std::printf(
          "   (warning: %.2fx the 1-thread FMA peak, not ~%dx: a core was busy elsewhere while the peak "
          "was measured, so the %% figures below are not meaningful; run again)\n",
          peak.fma_gflops / one_core, threads);
    bench::bench_sgemm(peak);
    bench::bench_softmax(peak);
  }
  set_num_threads(1);
  bench::bench_autograd();
  bench::bench_graph();
  bench::bench_attention(one_thread);
  bench::bench_efficient(one_thread);
  set_num_threads(all_threads);
  bench::bench_training();
}
