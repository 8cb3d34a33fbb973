// Lesson 07's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include "autograd/variable.h"
#include "nn/attention/luong.h"

namespace heed::lesson07 {

// Exercise 1: one step of global Luong attention with the general score
// (section 2), with the weights of `attention` (score general, window global):
//   score_s = h_t^T W_a h_s              W_a = attention.w_a->weight (Hid, Hid)
//   a = softmax over the visible s       (heed's masked_softmax: lesson 06 wrote it)
//   c = sum_s a_s h_s                    (B, Hid)
//   h~ = tanh(W_c [c; h_t])              W_c = attention.w_c->weight (Hid, 2 Hid)
// h_t: (B, Hid)  keys h_s: (B, S, Hid)  key_padding: (B, S), non-zero at
// padding, or undefined  ->  {attentional h~, context c, weights a}, position
// left undefined: what attention.forward(h_t, keys, 0, key_padding) gives.
// h_t^T W_a h_s for all s is one batched product; (W_a^T h_t) first costs
// (B, Hid) work, not (B, S, Hid).
nn::LuongOutput luong_general(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys,
                              const Tensor& key_padding);

// Exercise 2: the concat score (section 3), with the weights of `attention`
// (score concat): W_a = attention.w_a->weight (Hid, 2 Hid), v_a =
// attention.v_a->weight (1, Hid):
//   score_s = v_a^T tanh(W_a [h_t; h_s])
// h_t: (B, Hid)  keys: (B, S, Hid)  ->  scores (B, S), before any softmax.
// h_t is the same for every s: expand it to (B, S, Hid) beside the keys.
// Differentiable in h_t and keys (the tests gradcheck it).
Variable luong_concat_scores(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys);

// Exercise 3: local-p's window (section 4), with the weights of `attention`
// (window local_p, half width D = attention.options().half_window):
//   p_t = S_b sigmoid(v_p^T tanh(W_p h_t))     W_p = attention.w_p->weight (Hid, Hid),
//                                             v_p = attention.v_p->weight (1, Hid)
//   gaussian_s = exp(-(s - p_t)^2 / (2 sigma^2)),  sigma = D / 2,  s = 0 .. S-1
//   outside_s = 1 where |s - p_t| > D, else 0
// h_t: (B, Hid)  lengths: (B,) the true source lengths S_b  S: the padded width
//   ->  position p_t (B,), gaussian (B, S), outside (B, S).
// p_t stays real (not rounded), so the gaussian passes a gradient back to
// W_p, v_p and h_t: the tests gradcheck it in h_t. `outside` is a plain mask.
struct LocalPWindow {
  Variable position;  // (B,)
  Variable gaussian;  // (B, S)
  Tensor outside;     // (B, S)
};
LocalPWindow local_p_window(const nn::LuongAttention& attention, const Variable& h_t, const Tensor& lengths,
                            int64_t S);

}  // namespace heed::lesson07
