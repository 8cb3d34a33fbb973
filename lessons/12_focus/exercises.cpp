// Your answers to lesson 12's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/12_focus/exercises.h"

#include "lessons/common/exercise.h"
#include "nn/nn.h"

namespace heed::lesson12 {

FocusWindow focus_window(const Variable& q, const Variable& k, const Variable& mu_logit,
                         const Variable& sigma_logit, const Tensor& key_padding, float sigma_min) {
  (void)q, (void)k, (void)mu_logit, (void)sigma_logit, (void)key_padding, (void)sigma_min;
  course::not_implemented(12, 1,
                          "mu from the real length, sigma from softplus, then masked_softmax of the scores "
                          "minus (j - mu)^2 / (2 sigma^2); see section 2 of lesson.cpp");
}

double macro_f1(const Tensor& predictions, const Tensor& labels, int64_t classes) {
  (void)predictions, (void)labels, (void)classes;
  course::not_implemented(12, 2,
                          "count TP, FP and FN per class, then average F1 over the classes that occur; "
                          "see section 4 of lesson.cpp");
}

Variable masked_mean(const Variable& h, const Tensor& padding) {
  (void)h, (void)padding;
  course::not_implemented(12, 3,
                          "multiply by the real-token mask, sum over T, divide by the length (at least 1); "
                          "see section 3 of lesson.cpp");
}

}  // namespace heed::lesson12
