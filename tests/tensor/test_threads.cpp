// The thread count (tensor/kernels/parallel.h): HEED_THREADS and OMP_NUM_THREADS
// are read through detail::threads_from, tested here on the values a user may
// type; a value that is not a whole number from 1 to 4 x the cores is ignored
// with one line saying so, never a crash inside the OpenMP runtime.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "tensor/error.h"
#include "tensor/kernels/parallel.h"

using namespace heed;
using heed::detail::parse_thread_count;
using heed::detail::threads_from;

TEST_CASE("a thread count is a whole number from 1 to 4 x the cores") {
  CHECK(parse_thread_count("1", 2) == 1);
  CHECK(parse_thread_count("2", 2) == 2);
  CHECK(parse_thread_count("8", 2) == 8);
  CHECK(parse_thread_count(" 3 ", 2) == 3);  // spaces from shell quoting
  for (const char* bad : {"", " ", "0", "-1", "+2", "abc", "2abc", "3.5", "9", "100000", "99999999999",
                          "99999999999999999999999"})
    CHECK_MESSAGE(parse_thread_count(bad, 2) == std::nullopt, "value \"", bad, "\"");
  CHECK(parse_thread_count("100000", 25000) == 100000);  // the limit scales with the cores
}

TEST_CASE("unset variables mean one thread per core, silently") {
  std::string warning;
  CHECK(threads_from(nullptr, nullptr, 2, &warning) == 2);
  CHECK(threads_from("", "", 2, &warning) == 2);  // HEED_THREADS= ./lesson
  CHECK(warning.empty());
  CHECK(threads_from("1", nullptr, 2, &warning) == 1);
  CHECK(threads_from(nullptr, "3", 2, &warning) == 3);
  CHECK(threads_from("1", "3", 2, &warning) == 1);  // HEED_THREADS wins
  CHECK(warning.empty());
}

TEST_CASE("an invalid HEED_THREADS is ignored with one line, and the fallback applies") {
  std::string warning;
  CHECK(threads_from("abc", nullptr, 2, &warning) == 2);
  CHECK(warning ==
        "heed: ignoring HEED_THREADS=abc: a thread count is a whole number from 1 to 8 (4 per core on this "
        "2-core machine); using 2 threads, one per core");
  for (const char* bad : {"0", "-1", "100000", "99999999999"}) {
    warning.clear();
    CHECK(threads_from(bad, nullptr, 2, &warning) == 2);
    CHECK(warning.find(std::string("HEED_THREADS=") + bad) != std::string::npos);
  }
  // OMP_NUM_THREADS, when valid, is the fallback for an invalid HEED_THREADS.
  warning.clear();
  CHECK(threads_from("0", "1", 2, &warning) == 1);
  CHECK(warning ==
        "heed: ignoring HEED_THREADS=0: a thread count is a whole number from 1 to 8 (4 per core on this "
        "2-core machine); using OMP_NUM_THREADS=1");
}

TEST_CASE("OMP_NUM_THREADS is checked the same way; of a nested list heed takes the first count") {
  std::string warning;
  CHECK(threads_from(nullptr, "4,2", 2, &warning) == 4);
  CHECK(warning.empty());
  CHECK(threads_from("x", "-3", 2, &warning) == 2);
  CHECK(
      warning ==
      "heed: ignoring HEED_THREADS=x and OMP_NUM_THREADS=-3: a thread count is a whole number from 1 to 8 (4 "
      "per core on this 2-core machine); using 2 threads, one per core");
}

TEST_CASE("set_num_threads refuses counts the OpenMP runtime cannot run, and keeps the old count") {
  const int saved = num_threads();
  CHECK_THROWS_WITH_AS(set_num_threads(0),
                       doctest::Contains("set_num_threads: 0 threads asked for; heed takes 1 to"), Error);
  CHECK_THROWS_AS(set_num_threads(100000), Error);
  CHECK(num_threads() == saved);
  set_num_threads(1);
  CHECK(num_threads() == 1);
  set_num_threads(saved);
}
