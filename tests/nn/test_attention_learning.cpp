// Attention that learns: each layer, trained end to end on a task it makes
// easy, reaches its accuracy within its step budget (times are make bench's).
// Skipped under the sanitizers, like test_training.cpp: instrumented, they take
// minutes, and the layers are covered by gradcheck.
#include <doctest/doctest.h>

#include "tests/nn/attention_tasks.h"
#include "tests/testing.h"

using namespace heed;

using testing::kSanitized;

TEST_CASE(
    "GRU encoder-decoders with Bahdanau, Luong dot, Luong general and multi-head attention learn to reverse "
    "12 symbols to >= 95% held-out token accuracy" *
    doctest::skip(kSanitized)) {
  for (tasks::Attender kind : {tasks::Attender::bahdanau, tasks::Attender::luong_dot,
                               tasks::Attender::luong_general, tasks::Attender::multi_head}) {
    tasks::LearningResult r = tasks::train_attention_reversal(kind);
    MESSAGE(std::string(tasks::name_of(kind)), ": ", r.test_accuracy * 100,
            "% held-out token accuracy (validation ", r.validation_accuracy * 100, "%) after ", r.steps,
            " steps");
    CHECK(r.test_accuracy >= 0.95);
  }
}

TEST_CASE("FocusLSTM learns a label decided by one local cue among distractors to >= 95% held-out accuracy" *
          doctest::skip(kSanitized)) {
  tasks::LearningResult r = tasks::train_focus_classifier();
  MESSAGE("FocusLSTM: ", r.test_accuracy * 100, "% held-out accuracy (validation ",
          r.validation_accuracy * 100, "%) after ", r.steps, " steps");
  CHECK(r.test_accuracy >= 0.95);
}
