// Lesson 09's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace heed::lesson09 {

struct AttentionTensors {
  Tensor output;   // (..., T, Dv)
  Tensor weights;  // (..., T, S)
};

// Exercise 1: scaled dot-product attention's forward, from matmul and
// elementwise ops (not softmax, masked_softmax or attention: the point is to
// write the softmax yourself).
//   q: (..., T, Dh)  k: (..., S, Dh)  v: (..., S, Dv), the same leading dims;
//   mask: undefined, or broadcastable to (..., T, S), non-zero = hidden
//   ->  weights = softmax(q kᵀ / sqrt(Dh)) over the visible keys, output = weights v
// Properties the tests check against nn::scaled_dot_product_attention:
//  - a hidden key gets weight exactly 0;
//  - stable for large scores (scores of 1000 must not overflow exp): subtract
//    the row's largest visible score first;
//  - a row whose keys are all hidden has zero weights and a zero output, never NaN.
AttentionTensors attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& mask = Tensor());

// Exercise 2: the same attention as one autograd op with a backward you write
// (heed::record, as in lesson 02). The forward may use heed's tensor ops
// (masked_softmax included); the backward gets d loss/d output: (..., T, Dv)
// and returns d loss/d q, d loss/d k, d loss/d v, each of its input's shape:
//   dV = Wᵀ dO,  dW = dO Vᵀ,  dS = W * (dW - rowsum(dW * W)),
//   dQ = dS K / sqrt(Dh),  dK = dSᵀ Q / sqrt(Dh)
// q, k and v have the same leading dims (no broadcasting). Graded by gradcheck
// on q, k and v, with and without masks (fully masked rows too).
Variable attention_op(const Variable& q, const Variable& k, const Variable& v, const Tensor& mask = Tensor());

// Exercise 3: the mask of a batch of right-padded sequences for self-attention
// with a key/value cache: (B, T, S), 1 where query i of sequence b must not see key j:
//  - key j is padding: j >= lengths[b];
//  - and, when causal, key j is in query i's future. The T queries are the
//    last T of the S positions (S >= T), so query i sits at position S - T + i.
// Each lengths[b] is in [0, S]. Equal to combining nn::key_padding_mask and
// nn::causal_mask; write it with loops.
Tensor self_attention_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t S, bool causal);

}  // namespace heed::lesson09
