// Time to train: the two tasks of tests/nn/test_training.cpp (the tests hold
// them to their accuracy; here they are timed), one run each on every thread,
// held to the budgets measured on 2 cores at -O2.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "tensor/kernels/parallel.h"
#include "tests/bench/bench.h"
#include "tests/nn/training_tasks.h"

namespace heed::bench {

namespace {

template <class F>
double seconds(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(const char* task, double s, double budget) {
  std::printf("  %-44s %6.2f s   %s (target < %.0f s)\n", task, s, s < budget ? "PASS" : "MISS", budget);
}

}  // namespace

void bench_training() {
  // On busy cores spinning threads cost the GRU run 7x (60 s against 8.9 s
  // with OMP_WAIT_POLICY=passive, two cores at load 5): say which was used.
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("\ntraining to the tests' accuracy, %d thread%s, OMP_WAIT_POLICY=%s, one run each\n",
              num_threads(), num_threads() == 1 ? "" : "s",
              policy ? policy : "(unset: idle threads spin a while)");
  tasks::SpiralsResult spirals;
  double s = seconds([&] { spirals = tasks::train_spirals(); });
  report("two spirals, MLP (to 99% training accuracy)", s, 5);
  tasks::ReversalResult reversal;
  s = seconds([&] { reversal = tasks::train_reversal(); });
  report("reverse 8 symbols, GRU (to 95% held out)", s, 30);
  std::printf("  (%lld and %lld steps; %.1f%% and %.1f%%)\n", (long long)spirals.steps,
              (long long)reversal.steps, spirals.accuracy * 100, reversal.test_accuracy * 100);
}

}  // namespace heed::bench
