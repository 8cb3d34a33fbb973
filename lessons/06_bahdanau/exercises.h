// Lesson 06's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include "autograd/variable.h"
#include "nn/attention/bahdanau.h"

namespace heed::lesson06 {

// Exercise 1: the additive score (section 2), with the weights of `attention`
// (w_q->weight (Hd, Dq), w_k->weight (Hd, Dk), w_k->bias (Hd,), v->weight (1, Hd)):
//   e_j = v^T tanh(W_q q + W_k k_j + b_k)
// query: (B, Dq)  keys: (B, S, Dk)  key_padding: (B, S), non-zero at padded
// keys, or undefined  ->  e: (B, S), with -infinity at every padded key (so no
// softmax can give it weight). W_q q is one (B, Hd) row per query, added to
// every key's (B, S, Hd) projection by broadcasting. Differentiable in query
// and keys (the tests gradcheck it).
Variable additive_scores(const nn::BahdanauAttention& attention, const Variable& query, const Variable& keys,
                         const Tensor& key_padding);

// Exercise 2: the masked softmax over the last dimension (section 3).
// scores: (..., S)  mask: the same shape, non-zero where hidden  ->  weights
// (..., S): each row softmax over its visible entries, exactly 0 at hidden
// ones, and a row with every entry hidden all zeros (not NaN: 0 / 0 must not
// happen). Hidden scores may be anything, -infinity included. Subtract the
// row's largest visible score before exp (softmax does not change, exp cannot
// overflow). Differentiable in scores, built from heed's ops; not
// heed::masked_softmax itself, which grades it.
Variable masked_softmax_last(const Variable& scores, const Tensor& mask);

// Exercise 3: one step of additive attention (section 4): exercise 1's
// scores, exercise 2's weights, and the context, the weighted mean of the keys
//   c = sum_j a_j k_j                                    (B, Dk)
// query: (B, Dq)  keys: (B, S, Dk)  key_padding: (B, S) or undefined
//   ->  {output: c (B, Dk), weights: a (B, S)}, what
// attention.forward(query, attention.remember(keys, key_padding)) gives.
nn::Attention additive_attention(const nn::BahdanauAttention& attention, const Variable& query,
                                 const Variable& keys, const Tensor& key_padding);

}  // namespace heed::lesson06
