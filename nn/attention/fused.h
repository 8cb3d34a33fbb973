// Fused scaled dot-product attention as an autograd op: the same numbers as
// scaled_dot_product_attention, with memory O(T d) instead of O(T S).
//
//   out = softmax(scale q kᵀ, hidden keys removed) v
//   q: (B, H, T, Dh) or (B, T, Dh)  k: (..., S, Dh)  v: (..., S, Dv)  ->  out: (..., T, Dv)
//
// The forward keeps no weights: the kernel (tensor/kernels/flash_attention.h)
// goes over tiles of keys with an online softmax and saves each query's
// log-sum-exp, (..., T). The backward recomputes the weights tile by tile from
// q, k and that log-sum-exp. So the graph holds q, k, v, out and lse only, and
// no (T, S) tensor exists at any time; the weights cannot be returned, which
// is the point. A query that sees no key gets output 0 and gradient 0.
//
// Which keys a query sees: query i sits at position S - T + i (the last T of
// S, as causal_mask has it when decoding with a cache), and sees key j iff
//   i's position - window_left <= j <= i's position + window_right
// (a negative bound is no bound; causal sets window_right to 0) and j is not
// padding in key_padding (B, S), non-zero hides, shared by the heads. Key tiles
// outside the window are skipped, so a sliding window of width w costs O(T w d).
#pragma once

#include <cstdint>
#include <optional>

#include "autograd/ops.h"

namespace heed::nn {

struct FusedAttentionOptions {
  bool causal = false;        // key j > query position hidden (window_right = 0)
  int64_t window_left = -1;   // keys more than this before the query's position hidden (< 0: none)
  int64_t window_right = -1;  // keys more than this after it hidden (< 0: none)
  Tensor key_padding = {};    // (B, S): key s of sequence b is padding
  std::optional<float> scale = std::nullopt;  // else 1 / sqrt(Dh)
  int64_t block_q = 0, block_k = 0;           // tile sizes (0: the kernel's defaults)
};

Variable fused_attention(const Variable& q, const Variable& k, const Variable& v,
                         const FusedAttentionOptions& options = {});

}  // namespace heed::nn
