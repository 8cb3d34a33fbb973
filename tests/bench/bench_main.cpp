// `make bench`: every kernel figure as a median after warm-up, for 1 and 2
// threads, next to this machine's own FMA peak and copy bandwidth.
#include <cstdio>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/simd.h"
#include "tests/bench/bench.h"

int main() {
  using namespace heed;
  std::printf("heed bench: SIMD back end %s (%d floats), OpenMP threads available: %d\n", simd::Vec::name,
              simd::Vec::width, num_threads());
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    bench::Peak peak = bench::measure_peak(threads);
    std::printf("\n== %d thread%s: FMA peak %.1f GFLOP/s, copy bandwidth %.1f GB/s\n", threads,
                threads == 1 ? "" : "s", peak.fma_gflops, peak.copy_gbs);
    bench::bench_sgemm(peak);
    bench::bench_softmax(peak);
  }
  set_num_threads(1);
  bench::bench_autograd();
}
