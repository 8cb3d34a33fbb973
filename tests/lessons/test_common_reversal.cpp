// The reversal task of lessons 05-07 (lessons/common/reversal.h): its batches,
// its accuracy, where attention peaks, and a training run that learns.
#include <doctest/doctest.h>

#include "lessons/common/reversal.h"
#include "tests/testing.h"

using namespace heed;

TEST_CASE("reversal: a batch's target is its source backwards, in symbol ids") {
  Generator gen(1);
  const course::SequencePairs pairs = course::reversal_batch(5, 7, 10, gen);
  REQUIRE(pairs.source.shape() == Shape{5, 7});
  REQUIRE(pairs.target.shape() == Shape{5, 7});
  for (int64_t b = 0; b < 5; ++b)
    for (int64_t t = 0; t < 7; ++t) {
      const float id = pairs.source.at({b, t});
      CHECK(id >= float(course::kFirstSymbol));
      CHECK(id < float(course::kFirstSymbol + 10));
      CHECK(pairs.target.at({b, 6 - t}) == id);
    }
  CHECK(course::symbol_labels(from_vector({4, 13}, {2})) == std::vector<std::string>{"0", "9"});
}

TEST_CASE("reversal: exact match counts visible tokens and whole rows") {
  const Tensor target = from_vector({4, 5, 6, 7, 4, 5, 0, 0}, {2, 4});
  const Tensor predicted = from_vector({4, 5, 9, 7, 4, 5, 8, 8}, {2, 4});
  const Tensor padding = from_vector({0, 0, 0, 0, 0, 0, 1, 1}, {2, 4});
  const course::Accuracy padded = course::exact_match(predicted, target, padding);
  CHECK(padded.token == doctest::Approx(5.0 / 6));
  CHECK(padded.sequence == doctest::Approx(0.5));
  const course::Accuracy plain = course::exact_match(predicted, target);
  CHECK(plain.token == doctest::Approx(5.0 / 8));
  CHECK(plain.sequence == doctest::Approx(0.0));
  CHECK_THROWS_AS(course::exact_match(predicted, narrow(target, 1, 0, 3)), heed::Error);
}

TEST_CASE("reversal: attention peaks on the anti-diagonal, or one column to its right") {
  // (1, 4, 4): the anti-diagonal S-1-t, then the same shifted right (S-t for t >= 1).
  Tensor anti = zeros({1, 4, 4}), shifted = zeros({1, 4, 4});
  for (int64_t t = 0; t < 4; ++t) {
    anti.at({0, t, 3 - t}) = 1.0f;
    shifted.at({0, t, t == 0 ? 3 : 4 - t}) = 1.0f;
  }
  const course::AttentionPeaks a = course::attention_peaks(anti), s = course::attention_peaks(shifted);
  CHECK(a.writes == doctest::Approx(1.0));
  CHECK(a.just_wrote == doctest::Approx(0.0));
  CHECK(s.writes == doctest::Approx(0.25));  // t = 0 looks at S-1 either way
  CHECK(s.just_wrote == doctest::Approx(1.0));
}

TEST_CASE("reversal: a short training run lowers the loss and beats chance") {
  course::ReversalSetup setup = course::reversal_setup(/*quick=*/true, /*seed=*/3);
  setup.training.steps = 150;
  setup.training.reports = 1;
  setup.training.max_length = 5;
  course::Seq2Seq model(course::reversal_model(setup, course::AttentionKind::bahdanau, 4));
  const course::TrainingRun run = course::train_reversal(model, setup.training, "test");
  CHECK(run.final_loss < 1.5);  // chance is log 10 = 2.3
  Generator gen(9);
  CHECK(course::reversal_accuracy(model, 4, 128, 10, gen).token > 0.5);
}
