// End-to-end training (tests/nn/training_tasks.h): each task must reach its
// accuracy within its step budget. How long that takes is `make bench`'s
// business (tests/bench/bench_training.cpp), not a test's: a shared machine can
// make any run slow.
//
// Both tests are skipped in AddressSanitizer builds: instrumented, they take
// minutes, and their layers are already covered by the gradcheck tests.
#include <doctest/doctest.h>

#include "tests/nn/training_tasks.h"
#include "tests/testing.h"

using namespace heed;

using testing::kSanitized;

TEST_CASE("A two-layer MLP learns the two spirals to >= 99% training accuracy in at most 5000 steps" *
          doctest::skip(kSanitized)) {
  tasks::SpiralsResult result = tasks::train_spirals();
  MESSAGE("two spirals: ", result.accuracy * 100, "% training accuracy after ", result.steps, " steps");
  CHECK(result.accuracy >= 0.99);
}

TEST_CASE(
    "A GRU encoder-decoder learns to reverse 8 symbols to >= 95% held-out token accuracy in 3000 steps" *
    doctest::skip(kSanitized)) {
  tasks::ReversalResult result = tasks::train_reversal();
  MESSAGE("reversal: ", result.test_accuracy * 100, "% held-out token accuracy (validation ",
          result.validation_accuracy * 100, "%) after ", result.steps, " steps");
  CHECK(result.test_accuracy >= 0.95);
}
