// Your answers to lesson 05's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/05_rnn/exercises.h"

#include "lessons/common/exercise.h"
#include "nn/nn.h"

namespace heed::lesson05 {

Variable gru_cell(const Variable& x, const Variable& h, const Variable& weight_ih, const Variable& weight_hh,
                  const Variable& bias_ih, const Variable& bias_hh) {
  (void)x, (void)h, (void)weight_ih, (void)weight_hh, (void)bias_ih, (void)bias_hh;
  course::not_implemented(5, 1,
                          "two products, then chunk() each into its (r, z, n) thirds; r scales the "
                          "whole of gh_n, bias included; see section 2 of lesson.cpp");
}

Variable teacher_forced_logits(course::Seq2Seq& model, const Tensor& source, const Tensor& target) {
  (void)model, (void)source, (void)target;
  course::not_implemented(5, 2,
                          "encode once, then step() with bos first and target column t - 1 after; "
                          "stack the logits on dim 1; see section 3 of lesson.cpp");
}

course::Accuracy exact_match(const Tensor& predicted, const Tensor& target, const Tensor& padding) {
  (void)predicted, (void)target, (void)padding;
  course::not_implemented(5, 3,
                          "count right and visible positions per row; a row is right when the two "
                          "counts agree; see section 5 of lesson.cpp");
}

}  // namespace heed::lesson05
