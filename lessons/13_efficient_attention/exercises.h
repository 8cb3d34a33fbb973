// Lesson 13's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace heed::lesson13 {

// Exercise 1: the sliding-window mask (section 2). (T, S) with S >= T, 1 where
// key j is hidden from query i, 0 where it is seen. The T queries are the last
// T of the S positions (decoding with a cache), so query i sits at
// p_i = S - T + i. A window of width `window` >= 1:
//   causal:  query i sees the `window` keys ending at its own position,
//            p_i - window + 1 <= j <= p_i
//   centred: `window` keys around p_i: (window - 1) / 2 on each side for an odd
//            window, and for an even one the extra key on the past side,
//            p_i - window / 2 <= j <= p_i + (window - 1) / 2   (integer division)
// Cut at the ends of the sequence, never shifted. Exactly what
// nn::sliding_window_mask(T, window, causal, S) gives; throws heed::Error for
// window < 1 or S < T.
Tensor sliding_window_mask(int64_t T, int64_t S, int64_t window, bool causal);

// Exercise 2: causal linear attention as a recurrence (section 3), no autograd.
// q: (T, d)  k: (S, d)  v: (S, e), S >= T, query i at position p_i = S - T + i.
// With phi(x) = elu(x) + 1 (x + 1 for x > 0, e^x otherwise), keep two running sums
// over the positions 0 .. p:
//   KV_p = KV_{p-1} + phi(k_p) v_p^T   (d, e)        z_p = z_{p-1} + phi(k_p)   (d)
// and read each query at its own position:
//   out_i = phi(q_i)^T KV_{p_i} / (phi(q_i)^T z_{p_i} + eps)     (e)
// -> (T, e), in O(S d e) time and O(d e) state: never a (T, S) matrix. The same
// as nn::linear_attention(q, k, v, /*causal=*/true, {}, eps).
Tensor causal_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, float eps = 1e-6f);

// Exercise 3: the online softmax (section 4), what a fused kernel keeps per
// query while it walks over blocks of keys. For scores s (T, n) of one block
// (-infinity at a hidden key) and its values v (n, e):
//   m = max_j s_j   l = sum_j e^(s_j - m)   acc = sum_j e^(s_j - m) v_j
// and for two blocks of the same queries, the statistics of both together:
//   m = max(m_a, m_b)
//   l = l_a e^(m_a - m) + l_b e^(m_b - m)       acc likewise
// so that after the last block out = acc / l is softmax(s) v over all the keys.
// A query that sees no key in a block has m = -infinity, l = 0, acc = 0, and
// merging must give no NaN (e^(-inf - -inf) is NaN; such a block adds nothing).
struct SoftmaxBlock {
  Tensor m;    // (T,) the running maximum of the scores
  Tensor l;    // (T,) the sum of e^(s - m)
  Tensor acc;  // (T, e) the sum of e^(s - m) v, not yet divided by l
};
// The statistics of one block: scores (T, n), v (n, e).
SoftmaxBlock softmax_block(const Tensor& scores, const Tensor& v);
// The statistics of a and b together, as if their keys were one block.
SoftmaxBlock merge_blocks(const SoftmaxBlock& a, const SoftmaxBlock& b);

}  // namespace heed::lesson13
