// Lesson 05's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include "autograd/variable.h"
#include "lessons/common/reversal.h"
#include "lessons/common/seq2seq.h"

namespace heed::lesson05 {

// Exercise 1: one GRU step from its equations (section 2), gates in
// PyTorch's order (r, z, n):
//   gi = x W_ih^T + b_ih,  gh = h W_hh^T + b_hh          (B, 3 Hid) each
//   r = sigmoid(gi_r + gh_r)      z = sigmoid(gi_z + gh_z)
//   n = tanh(gi_n + r * gh_n)     h' = (1 - z) * n + z * h
// x: (B, I)  h: (B, Hid)  weight_ih: (3 Hid, I)  weight_hh: (3 Hid, Hid)
// bias_ih, bias_hh: (3 Hid,)  ->  h': (B, Hid)
// It must equal nn::GRUCell's step with the same weights, and be built from
// heed's differentiable ops (on Variables, not their values), so that
// backward() reaches all six inputs: the tests gradcheck it.
Variable gru_cell(const Variable& x, const Variable& h, const Variable& weight_ih, const Variable& weight_hh,
                  const Variable& bias_ih, const Variable& bias_hh);

// Exercise 2: the teacher-forced forward pass, step by step (section 3).
// source: (B, S) ids, target: (B, T) ids  ->  logits (B, T, V).
// Encode the source once (model.encode, no padding), then call model.step
// T times: step t reads the true target symbol t - 1, and bos
// (model.options().bos) at t = 0, whatever the model predicted. The result
// must equal model.forward(source, {}, target).logits.
Variable teacher_forced_logits(course::Seq2Seq& model, const Tensor& source, const Tensor& target);

// Exercise 3: exact-match accuracy (section 5).
// predicted, target: (B, T) ids; padding: (B, T), non-zero at padding, or
// undefined (nothing padded). Only visible positions count:
//   token    = visible positions right / visible positions (1 if there are none)
//   sequence = rows whose every visible position is right / B (1 if B = 0)
// A padded position never counts, right or wrong.
course::Accuracy exact_match(const Tensor& predicted, const Tensor& target, const Tensor& padding);

}  // namespace heed::lesson05
