// Lesson 12's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace heed::lesson12 {

// Exercise 1: the focus window (section 2). Per batch b, head h and query t,
// from the head's projected query q (not yet scaled) and its two predictions:
//   mu    = (S_b - 1) sigmoid(mu_logit)          S_b: the real (unpadded) keys of sequence b
//   sigma = sigma_min + softplus(sigma_logit)    softplus(x) = log(1 + e^x)
//   weights_j = softmax_j(q . k_j / sqrt(Dh) - (j - mu)^2 / (2 sigma^2)),  padded keys hidden
// q: (B, H, T, Dh)  k: (B, H, S, Dh)  mu_logit, sigma_logit: (B, H, T)
// key_padding: (B, S), non-zero at padding (padding at the end), or undefined (S_b = S)
//   ->  weights (B, H, T, S) (exactly 0 at padded keys), mu and sigma (B, H, T).
// Build it from autograd ops, so gradients reach q, k and both logits (the test
// runs gradcheck on all four). It must give what nn::FocusAttention gives for
// the same q, k and logits. Keep softplus finite for large inputs (|x| ~ 100).
struct FocusWindow {
  Variable weights;    // (B, H, T, S)
  Variable mu, sigma;  // (B, H, T)
};
FocusWindow focus_window(const Variable& q, const Variable& k, const Variable& mu_logit,
                         const Variable& sigma_logit, const Tensor& key_padding, float sigma_min);

// Exercise 2: macro-F1 (section 4). predictions, labels: (N,) class ids in
// [0, classes). For each class c, with TP, FP, FN counted over the N items,
//   F1_c = 2 TP / (2 TP + FP + FN),
// and macro-F1 is the plain mean of F1_c over the classes that occur in labels
// or in predictions (a class in neither is left out, as scikit-learn's
// f1_score(average="macro") does). Every class weighs the same, however rare:
// a classifier that always says "0" on balanced binary labels has accuracy 0.5
// but macro-F1 1/3. Throws heed::Error on shapes that differ or ids outside [0, classes).
double macro_f1(const Tensor& predictions, const Tensor& labels, int64_t classes);

// Exercise 3: the masked mean (section 3). h: (B, T, D), padding: (B, T),
// non-zero at padding  ->  (B, D), each sequence's mean over its real
// positions only. Whatever sits at a padded position (the test puts 1e6 there)
// must not reach the result, and gets gradient 0; a sequence with no real
// position gives a zero row, never NaN. Differentiable in h (gradcheck).
Variable masked_mean(const Variable& h, const Tensor& padding);

}  // namespace heed::lesson12
