#include "tensor/kernels/parallel.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "tensor/error.h"

namespace heed {

namespace detail {

std::optional<int> parse_thread_count(std::string_view value, int cores) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  const char* end = value.data() + value.size();
  int n = 0;
  auto [stop, error] = std::from_chars(value.data(), end, n);  // digits only, and no wrap-around
  if (value.empty() || error != std::errc() || stop != end || n < 1 || n > max_threads(cores))
    return std::nullopt;
  return n;
}

int threads_from(const char* heed_threads, const char* omp_num_threads, int cores, std::string* warning) {
  int n = cores;
  std::string chosen = concat(cores, " threads, one per core"), ignored;
  const std::pair<const char*, const char*> vars[] = {{"HEED_THREADS", heed_threads},
                                                      {"OMP_NUM_THREADS", omp_num_threads}};
  for (auto [name, value] : vars) {
    if (value == nullptr || *value == '\0') continue;  // VAR= on a command line means unset
    std::string_view count(value);
    // OMP_NUM_THREADS may list a count per nesting level ("4,2"); heed's threads are the first.
    if (std::string_view(name) == "OMP_NUM_THREADS") count = count.substr(0, count.find(','));
    if (std::optional<int> parsed = parse_thread_count(count, cores)) {
      n = *parsed;
      chosen = concat(name, "=", n);
      break;
    }
    ignored += concat(ignored.empty() ? "" : " and ", name, "=", value);
  }
  if (!ignored.empty() && warning)
    *warning = concat("heed: ignoring ", ignored, ": a thread count is a whole number from 1 to ",
                      max_threads(cores), " (4 per core on this ", cores, "-core machine); using ", chosen);
  return n;
}

}  // namespace detail

namespace {

int cores() {
#if defined(_OPENMP)
  return omp_get_num_procs();
#else
  return 1;
#endif
}

// heed has two pieces of process-wide mutable state: this thread count, read
// once from the environment, and the buffer pool (pool.cpp). The no-grad and
// anomaly flags are per thread (autograd/), as are the pool's and sgemm's
// scratch caches.
int& thread_count() {
  static int count = [] {
    std::string warning;
    int n =
        detail::threads_from(std::getenv("HEED_THREADS"), std::getenv("OMP_NUM_THREADS"), cores(), &warning);
    if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
    return n;
  }();
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

void set_num_threads(int n) {
  HEED_CHECK(n >= 1 && n <= detail::max_threads(cores()), "set_num_threads: ", n,
             " threads asked for; heed takes 1 to ", detail::max_threads(cores()), " (4 per core on this ",
             cores(), "-core machine)");
  thread_count() = n;
}

}  // namespace heed
