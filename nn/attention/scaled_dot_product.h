// Scaled dot-product attention, the core every attention layer shares, and the
// masks it takes.
//
//   weights = softmax(q kᵀ / sqrt(Dh)) over the keys,  output = weights v
//
// q: (..., T, Dh)  k: (..., S, Dh)  v: (..., S, Dv)  mask: broadcast to (..., T, S)
//   ->  output: (..., T, Dv)  weights: (..., T, S)
//
// A mask marks what is hidden: a non-zero entry gives that key weight exactly
// 0 for that query (PyTorch's boolean attn_mask and key_padding_mask read the
// same way). A query whose keys are all hidden gets zero weights, a zero output
// and zero gradients, never NaN.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/ops.h"

namespace heed::nn {

// What every attention layer returns: the attended values and the weights
// that made them (for plots and for tests that look inside).
struct Attention {
  Variable output;   // (..., T, Dv)
  Variable weights;  // (..., T, S), each row summing to 1 (0 when fully masked)
};

// softmax(q kᵀ / sqrt(Dh) with hidden keys removed): (..., T, S).
Variable attention_weights(const Variable& q, const Variable& k, const Tensor& mask = Tensor());
Attention scaled_dot_product_attention(const Variable& q, const Variable& k, const Variable& v,
                                       const Tensor& mask = Tensor());

// (T, S): 1 where key j lies in the future of query i. With S > T the T
// queries are the last T positions of S (decoding with a key/value cache), so
// query i sits at position S - T + i and sees keys 0 .. S - T + i.
Tensor causal_mask(int64_t T, int64_t S = -1);
// (B, S): 1 at the padded keys of each sequence, from its length in [0, S].
// Unsqueeze it to (B, 1, S) for (B, T, S) scores or (B, 1, 1, S) for heads.
Tensor key_padding_mask(const std::vector<int64_t>& lengths, int64_t S);

}  // namespace heed::nn
