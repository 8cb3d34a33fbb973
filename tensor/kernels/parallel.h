// Threads for every kernel: the only place (with the other kernel files) that
// says `#pragma omp`. HEED_THREADS, else OMP_NUM_THREADS, sets the count; without
// OpenMP everything runs on the calling thread.
//
// Determinism rule: work is split over *independent outputs* only (rows, blocks
// of C, elements), never over a reduction, so every result is bitwise identical
// for any thread count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tensor/threads.h"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace heed {

namespace detail {
// The most threads heed runs on `cores` cores.
constexpr int max_threads(int cores) { return 4 * cores; }
// The count `value` asks for, when it is a whole number from 1 to max_threads(cores)
// (spaces around it allowed); nothing for "", "0", "-1", "abc", "3.5", "99999999999".
std::optional<int> parse_thread_count(std::string_view value, int cores);
// The count from the values of HEED_THREADS and OMP_NUM_THREADS (null or ""
// when unset): the first valid one, else `cores`. When a set value was ignored,
// *warning says which and what is used instead.
int threads_from(const char* heed_threads, const char* omp_num_threads, int cores, std::string* warning);
}  // namespace detail

namespace kernels {

// Calls body(begin, end) over [0, n) split into contiguous chunks of at least
// `grain` items, in parallel when that is worth it. Chunks never overlap.
template <class Body>
void parallel_for(int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
#if defined(_OPENMP)
  int threads = num_threads();
  if (threads > 1 && n > grain) {
    int64_t chunks = (n - 1) / grain + 1;
    if (chunks > threads) chunks = threads;
    // Chunk c starts at n * c / chunks, computed without the product n * c (which can overflow).
    const int64_t q = n / chunks, r = n % chunks;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t begin = q * c + r * c / chunks, end = q * (c + 1) + r * (c + 1) / chunks;
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
