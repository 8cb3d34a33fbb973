// Your answers to lesson 04's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/04_training/exercises.h"

#include "autograd/ops.h"
#include "lessons/common/exercise.h"

namespace heed::lesson04 {

Variable cross_entropy_mean(const Variable& logits, const Tensor& target) {
  (void)logits, (void)target;
  course::not_implemented(4, 1,
                          "log_softmax each row stably, pick the target's entry; save softmax and the "
                          "targets for the backward; see section 3 of lesson.cpp");
}

void sgd_momentum_step(const Tensor& weight, const Tensor& grad, Tensor& velocity,
                       const MomentumOptions& options) {
  (void)weight, (void)grad, (void)velocity, (void)options;
  course::not_implemented(4, 2, "on the first step velocity is a copy of d; see section 4 of lesson.cpp");
}

void adam_step(const Tensor& weight, const Tensor& grad, AdamState& state, const AdamStepOptions& options) {
  (void)weight, (void)grad, (void)state, (void)options;
  course::not_implemented(4, 3,
                          "count the step first: the bias corrections use t = 1 on the first step; see "
                          "section 4 of lesson.cpp");
}

}  // namespace heed::lesson04
