#include "tensor/kernels/parallel.h"

#include <cstdlib>
#include <string>

namespace heed {
namespace {

int threads_from_environment() {
  for (const char* name : {"HEED_THREADS", "OMP_NUM_THREADS"}) {
    if (const char* value = std::getenv(name)) {
      int n = std::atoi(value);
      if (n >= 1) return n;
    }
  }
#if defined(_OPENMP)
  return omp_get_num_procs();
#else
  return 1;
#endif
}

// The thread count is one of heed's two pieces of global state (with the
// no-grad flag); it is read once from the environment.
int& thread_count() {
  static int count = threads_from_environment();
  return count;
}

}  // namespace

int num_threads() {
#if defined(_OPENMP)
  return thread_count();
#else
  return 1;
#endif
}

void set_num_threads(int n) { thread_count() = n < 1 ? 1 : n; }

}  // namespace heed
