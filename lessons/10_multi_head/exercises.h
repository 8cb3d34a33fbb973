// Lesson 10's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "nn/attention/multi_head.h"
#include "tensor/tensor.h"

namespace heed::lesson10 {

// Exercise 1: split the last dim of x: (B, T, H*Dh) into H heads,
//   (B, T, H*Dh) -> view (B, T, H, Dh) -> transpose (B, H, T, Dh),
// without copying: the result shares x's storage (no contiguous(), no clone).
// Head h holds the columns [h*Dh, (h+1)*Dh) of x. A heed::Error when H does not
// divide the last dim.
Variable split_heads(const Variable& x, int64_t heads);
// ... and merge them back: (B, H, T, Dh) -> (B, T, H*Dh), head h in columns
// [h*Dh, (h+1)*Dh) again, so merge_heads(split_heads(x, H)) == x. (A reshape,
// not a view: heads laid out (B, H, T, Dh) in memory must be copied.)
Variable merge_heads(const Variable& x);

// Exercise 2: multi-head attention as H single-head attentions side by side,
// computed from the weights of `mha` (embed_dim D, num_heads H, Dh = D / H,
// kdim = vdim = D, with biases) without calling mha.forward:
//   for each head h: q_h = query Wq[rows h*Dh .. (h+1)*Dh)ᵀ + bq[the same rows]   (B, T, Dh)
//                    k_h, v_h likewise from key and value                          (B, S, Dh)
//                    out_h, w_h = nn::scaled_dot_product_attention(q_h, k_h, v_h, mask)
//   output = cat(out_0 .. out_{H-1}, last dim) Woᵀ + bo: (B, T, D)
//   weights = stack(w_0 .. w_{H-1}, dim 1): (B, H, T, S)
// mask: undefined or (T, S), non-zero hides. Equals mha.forward(query, key, value, {.attn = mask}).
nn::Attention multi_head_by_hand(const nn::MultiHeadAttention& mha, const Variable& query,
                                 const Variable& key, const Variable& value, const Tensor& mask = Tensor());

// Exercise 3: one step of causal self-attention decoding with a key/value cache.
// x_new: (B, T_new, D), the next T_new tokens (usually 1) of a sequence whose
// earlier tokens' keys and values are in `cache` (cache.k, cache.v: (B, H, S_past, Dh),
// undefined before the first step). Project x_new with mha's q_proj, k_proj
// and v_proj, split the heads, append the new keys and values to the cache
// (cat along dim 2, so afterwards cache.k is (B, H, S_past + T_new, Dh)), attend
// from the new queries to every cached key with a causal mask (new query i sits
// at position S_past + i), merge the heads and apply out_proj: (B, T_new, D).
// No rotary or relative positions (mha has neither). Calling it on x's tokens
// one at a time must give the rows of mha.forward(x, {.causal = true}).
Variable kv_cache_step(const nn::MultiHeadAttention& mha, const Variable& x_new, nn::KVCache& cache);

}  // namespace heed::lesson10
