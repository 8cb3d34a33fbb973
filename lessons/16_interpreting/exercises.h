// Lesson 16's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// Three tools for looking inside a trained Transformer: attention rollout
// (how much of each input token reaches a position after every layer), a
// multi-head attention whose heads can be switched off one by one (head
// ablation), and the entropy of attention rows (is a head sharp or diffuse?), with its gradient.
#pragma once

#include <vector>

#include "autograd/variable.h"
#include "nn/attention/multi_head.h"
#include "tensor/tensor.h"

namespace heed::lesson16 {

// Exercise 1: attention rollout (Abnar & Zuidema 2020) over a stack of layers.
//   layers[l]: (B, H, T, T), the attention weights of layer l (l = 0 is the
//   first, nearest the input), rows summing to 1 or all zero (a query that
//   saw no key)  ->  rollout: (B, T, T)
// Each layer's token mixing is its attention averaged over the heads plus the
// residual connection, which carries every token straight through:
//   A_l = mean_h layers[l]           (B, T, T)
//   Â_l = (A_l + I) / rowsum(A_l + I)   (each row renormalized to sum to 1)
//   rollout = Â_{L-1} ... Â_1 Â_0        (batched matmuls, the last layer leftmost)
// so rollout[b, i, j] is how much of input token j reaches position i at the
// top. Every row of the rollout sums to 1. An empty list, a tensor that is not
// (B, H, T, T), or layers of different shapes is a heed::Error naming the
// layer and its shape.
Tensor attention_rollout(const std::vector<Tensor>& layers);

// Exercise 2: multi-head self-attention through mha's own projections
// (q_proj, k_proj, v_proj, out_proj; nn/attention/multi_head.h shows the
// shapes), with head h's output multiplied by head_mask[h] before the heads
// are merged and projected:
//   x: (B, T, D)  head_mask: (H,)  key_padding: (B, T) non-zero at padding, or undefined
//   q, k, v = split_heads(x W^T + b): (B, H, T, Dh)
//   weights = softmax(q k^T / sqrt(Dh), padded keys hidden): (B, H, T, T)
//   heads = (weights v) * head_mask[h]: (B, H, T, Dh)
//   output = merge_heads(heads) Wo^T + bo: (B, T, D)
// With head_mask all ones the output is mha.forward(x, {.key_padding}) (mha
// without dropout, rotary or relative positions); with head_mask[h] = 0, head
// h is ablated: its weights are still returned, but nothing it read reaches
// the output (the out_proj bias still does). Use Variable ops, so gradients
// reach x and mha's parameters. A head_mask that is not (H,) is a heed::Error.
nn::Attention masked_heads_attention(nn::MultiHeadAttention& mha, const Variable& x, const Tensor& head_mask,
                                     const Tensor& key_padding = Tensor());

// Exercise 3: the entropy of every attention row, in nats, as a
// differentiable op recorded as "attention_entropy" (one heed::record, as in
// lesson 02), so that it can also be trained on (an entropy penalty).
//   weights: (..., T, S), rows of non-negative weights summing to 1, or all
//   zero  ->  entropy: (..., T)
//   H_i = -sum_j w_ij log w_ij, with 0 log 0 = 0
// A one-hot row has entropy 0, a row spread evenly over n keys log n, a row
// of zeros (a fully masked query) 0: a hidden key (weight exactly 0) adds
// nothing, so no NaN or -inf reaches the result. The backward, for the
// upstream gradient g: (..., T):
//   d H_i / d w_ij = -(log w_ij + 1)   where w_ij > 0,   0 where w_ij = 0
//   grad_w = g_i * that: (..., T, S)
Variable attention_entropy(const Variable& weights);

}  // namespace heed::lesson16
