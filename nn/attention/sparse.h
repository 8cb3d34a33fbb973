// Sparse attention patterns: masks that let each query see only some keys, so
// attention over a long sequence costs O(T w) useful work instead of O(T^2).
//
// Every mask here is (T, S) in the convention of causal_mask
// (nn/attention/scaled_dot_product.h): a non-zero entry hides key j from query
// i, and with S > T the T queries are the last T positions of S (decoding with
// a key/value cache), so query i sits at position p_i = S - T + i. A mask goes
// to scaled_dot_product_attention, or to MultiHeadAttention as
// AttentionMasks.attn, and combines with padding and causal masks there.
//
// Band (the primitive the others are made of, and the one a fused kernel that
// skips hidden key blocks takes):
//   query i sees key j  iff  p_i - left <= j <= p_i + right,   left, right >= 0
//
// Sliding window of width w >= 1 (Longformer-style local attention):
//   causal:  the w keys ending at the query's own position,
//            p_i - w + 1 <= j <= p_i              band (left, right) = (w - 1, 0)
//   centred: w keys around the query's own position; for odd w, (w - 1) / 2 on
//            each side; for even w the extra key is on the past side:
//            band (left, right) = (w / 2, (w - 1) / 2)   (integer division)
//   Near the ends of the sequence the window is cut, not shifted, so early
//   queries see fewer keys; a query always sees itself, so no row is empty.
//
// Strided (Child et al. 2019, "Generating Long Sequences with Sparse
// Transformers"). With stride l the paper gives two sets for
// position i: A1 = {max(0, i - l), ..., i} (the recent keys) and
// A2 = {j : (i - j) mod l = 0} (every l-th key back), each for its own head or
// merged into one. This file builds the merged pattern, A1 united with A2,
// restricted to keys j <= i when causal:
//   causal:     query i sees key j  iff  j <= p_i  and  (p_i - j < l  or  (p_i - j) mod l == 0)
//   not causal: query i sees key j  iff  |p_i - j| < l  or  |p_i - j| mod l == 0
// (The paper's A1 also holds i - l, which A2 holds too, so "< l" loses nothing.)
// With l ~ sqrt(T) each query sees about 2 sqrt(T) keys (3 sqrt(T) not causal),
// and any key reaches any later query within two layers: first along the
// stride, then within the band.
//
// The masks are dense (T, S) tensors: scaled_dot_product_attention still does
// O(T S) work with them and only the pattern is sparse. What they buy here is the
// semantics (and a reference for a kernel that skips hidden blocks).
#pragma once

#include <cstdint>

#include "nn/attention/scaled_dot_product.h"

namespace heed::nn {

// (T, S): key j hidden unless p_i - left <= j <= p_i + right. S = -1 means S = T.
Tensor band_mask(int64_t T, int64_t left, int64_t right, int64_t S = -1);
// (T, S): the sliding window of width `window` (causal or centred, as above).
Tensor sliding_window_mask(int64_t T, int64_t window, bool causal = true, int64_t S = -1);
// The window's band: (window - 1, 0) causal, (window / 2, (window - 1) / 2) centred.
struct Band {
  int64_t left = 0, right = 0;
};
Band sliding_window_band(int64_t window, bool causal = true);
// (T, S): the strided pattern with stride l = `stride` >= 1 (band plus every l-th key).
Tensor strided_mask(int64_t T, int64_t stride, bool causal = true, int64_t S = -1);

// scaled_dot_product_attention with the pattern built for q's T and k's S,
// combined with `mask` (padding, say; broadcast to (..., T, S), non-zero hides)
// when given. q: (..., T, Dh)  k: (..., S, Dh)  v: (..., S, Dv).
Attention sliding_window_attention(const Variable& q, const Variable& k, const Variable& v, int64_t window,
                                   bool causal = true, const Tensor& mask = Tensor());
Attention strided_attention(const Variable& q, const Variable& k, const Variable& v, int64_t stride,
                            bool causal = true, const Tensor& mask = Tensor());

}  // namespace heed::nn
