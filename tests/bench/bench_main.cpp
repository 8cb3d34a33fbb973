// `make bench`: every kernel figure as a median after warm-up, for 1 and 2
// threads, next to this machine's own FMA peak and copy bandwidth; then the
// cost of recording ops, what recurrent graphs hold and cost, attention's
// workloads, the time the training tests take, fused against plain attention,
// and Transformer training steps. `heed_bench PART` runs one part alone, PART
// one of: autograd, graph, attention, fused, efficient, training, transformer.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/simd.h"
#include "tests/bench/bench.h"

int main(int argc, char** argv) {
  using namespace heed;
  const int num_threads_at_start = num_threads();
  if (argc > 1) {  // one part
    const std::string part = argv[1];
    set_num_threads(1);  // every part but training and transformer runs on one thread
    if (part == "autograd") {
      bench::bench_autograd();
    } else if (part == "graph") {
      bench::bench_graph();
    } else if (part == "attention") {
      bench::bench_attention(bench::measure_peak(1));
    } else if (part == "fused") {
      bench::bench_fused(bench::measure_peak(1));
    } else if (part == "efficient") {
      bench::bench_efficient(bench::measure_peak(1));
    } else if (part == "training") {
      set_num_threads(num_threads_at_start);
      bench::bench_training();
    } else if (part == "transformer") {
      bench::bench_transformer();
    } else {
      std::fprintf(stderr,
                   "heed_bench: no part '%s'; the parts are autograd, graph, attention, fused, efficient, "
                   "training and transformer (none: all of them)\n",
                   argv[1]);
      return 2;
    }
    return 0;
  }
  std::printf("heed bench: SIMD back end %s (%d floats), OpenMP threads available: %d\n", simd::Vec::name,
              simd::Vec::width, num_threads());
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
  bench::bench_fused(one_thread);
  bench::bench_efficient(one_thread);
  set_num_threads(num_threads_at_start);
  bench::bench_training();
  // A fresh process, so the peak RSS it reports is the Transformer's own.
  std::fflush(stdout);
  if (std::system((std::string(argv[0]) + " transformer").c_str()) != 0) return 1;
}
