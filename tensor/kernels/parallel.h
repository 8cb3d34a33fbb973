// Threads for every kernel: the only place (with the other kernel files) that
// says `#pragma omp`. HEED_THREADS, else OMP_NUM_THREADS, sets the count; without
// OpenMP everything runs on the calling thread.
//
// Determinism rule: work is split over *independent outputs* only (rows, blocks
// of C, elements), never over a reduction, so every result is bitwise identical
// for any thread count.
#pragma once

#include <cstdint>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace heed {

// The number of threads kernels use (>= 1).
int num_threads();
// Sets it for all later kernels (n >= 1).
void set_num_threads(int n);

namespace kernels {

// Calls body(begin, end) over [0, n) split into contiguous chunks of at least
// `grain` items, in parallel when that is worth it. Chunks never overlap.
template <class Body>
void parallel_for(int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
#if defined(_OPENMP)
  int threads = num_threads();
  if (threads > 1 && n > grain) {
    int64_t chunks = (n + grain - 1) / grain;
    if (chunks > threads) chunks = threads;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
      body(begin, end);
    }
    return;
  }
#endif
  (void)grain;
  body(int64_t{0}, n);
}

}  // namespace kernels
}  // namespace heed
