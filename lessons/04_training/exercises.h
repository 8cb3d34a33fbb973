// Lesson 04's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// The loss a classifier trains on, and the two update rules that train
// almost every network: written by hand, graded against heed's
// cross_entropy and its nn::SGD and nn::Adam over many steps.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace heed::lesson04 {

// Exercise 1: mean softmax cross-entropy, recorded as "cross_entropy_mean"
// (one heed::record, as in lesson 02).
//   logits: (N, C)  target: (N,) class ids 0..C-1 stored as floats  ->  loss: ()
//   loss = 1/N sum_n ( logsumexp(logits_n) - logits_n[target_n] )
// Stable for logits of 1000 (subtract each row's max). The backward is the
// famous one, for the scalar upstream gradient g:
//   d loss / d logits = g * (softmax(logits) - onehot(target)) / N: (N, C)
// A target outside 0..C-1 (or not a whole number) is a heed::Error naming the
// row and the value.
Variable cross_entropy_mean(const Variable& logits, const Tensor& target);

// Exercise 2: one step of SGD with momentum on one parameter, as
// torch.optim.SGD (dampening 0, no Nesterov), in place:
//   d = grad + weight_decay * weight
//   velocity = d on the first step (velocity undefined), else momentum * velocity + d
//   weight  -= lr * velocity
// weight and grad are contiguous, of one shape; write weight's elements in
// place (through data(), or copy_), and keep velocity as a tensor of your own
// (never grad itself: the next backward writes over grad).
struct MomentumOptions {
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
};
void sgd_momentum_step(const Tensor& weight, const Tensor& grad, Tensor& velocity,
                       const MomentumOptions& options);

// Exercise 3: one step of Adam on one parameter, as torch.optim.Adam, in place:
//   t += 1;  d = grad + weight_decay * weight
//   m = beta1 * m + (1 - beta1) * d                  (the mean of recent gradients)
//   v = beta2 * v + (1 - beta2) * d^2                (the mean of their squares)
//   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (m, v start at 0: undo that bias)
//   weight -= lr * m_hat / (sqrt(v_hat) + eps)
// m and v are undefined before the first step (then zeros of weight's shape).
struct AdamState {
  Tensor m, v;
  int64_t t = 0;
};
struct AdamStepOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};
void adam_step(const Tensor& weight, const Tensor& grad, AdamState& state, const AdamStepOptions& options);

}  // namespace heed::lesson04
