// Fused scaled dot-product attention on tensors (the kernels are in
// tensor/kernels/flash_attention.h): forward and backward, with memory O(T d).
//
// q: (..., T, Dh)  k: (..., S, Dh)  v: (..., S, Dv), the same leading dims
//   ->  output: (..., T, Dv), lse: (..., T)
//   s_ij = scale q_i . k_j over the keys j that query i sees
//   lse_i = log sum_j exp(s_ij),  output_i = sum_j exp(s_ij - lse_i) v_j
// Query i sits at position S - T + i (the queries are the last T keys, as with
// a key/value cache). It sees key j iff  pos_i - left <= j <= pos_i + right
// (left, right < 0: no bound on that side; causal is right = 0) and the key is
// not padding: key_padding (N, S) with N = q.size(0) (1 for 2-D q), non-zero
// hides, shared by every head of a sequence. A query that sees no key gets
// output 0 and lse -inf, and no gradient.
//
// The backward takes what the forward gave and the gradient of the output, and
// returns the gradients of q, k and v. A 4-D (B, H, T, D) result is a view of
// (B, T, H, D) memory, as tensor attention() lays it out, so merging heads back
// moves nothing. No (..., T, S) tensor is ever made.
#pragma once

#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace heed {

struct FlashAttentionOptions {
  std::optional<float> scale = std::nullopt;  // else 1 / sqrt(Dh)
  int64_t left = -1, right = -1;              // the band of visible keys around each query
  Tensor key_padding = {};                    // (N, S), non-zero hides
  int64_t block_q = 0, block_k = 0;           // tile sizes Br, Bc; 0: the kernel's defaults
};

struct FlashAttentionResult {
  Tensor output, lse;
};
FlashAttentionResult flash_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const FlashAttentionOptions& options = {});

struct FlashAttentionGrads {
  Tensor q, k, v;
};
FlashAttentionGrads flash_attention_backward(const Tensor& grad_output, const Tensor& q, const Tensor& k,
                                             const Tensor& v, const Tensor& output, const Tensor& lse,
                                             const FlashAttentionOptions& options = {});

}  // namespace heed
