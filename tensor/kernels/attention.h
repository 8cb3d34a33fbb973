// Attention's forward for a batch of independent problems (the (batch, head)
// pairs of multi-head attention), each computed start to end by one thread:
//
//   weights = softmax(scale Q Kᵀ) over the keys not hidden    (T, S)
//   out     = weights V                                       (T, Dv)
//
// Each problem's Q is scaled into a scratch of the thread's own (T x Dh
// floats, in cache) instead of by a pass over all of Q. One problem's (T, S) block stays in
// cache from the scores through the softmax to the product with V; as three
// separate ops the whole (B, H, T, S) tensor would cross memory four times
// (scores written, read, weights written, read), here once (weights written).
// Every problem runs the same sgemm and softmax code as the separate ops, on
// one thread, so results are bitwise identical for any thread count.
#pragma once

#include <cstdint>

namespace heed::kernels {

struct AttentionArgs {
  int64_t batch = 0, t = 0, s = 0, dh = 0, dv = 0;
  float scale = 1.0f;
  // Per problem i: q[i] (t, dh), k[i] (s, dh), v[i] (s, dv) with row strides
  // ldq, ldk, ldv (unit stride along a row); mask[i] (t, s) contiguous, or
  // mask == nullptr for none; weights[i] (t, s) contiguous; out[i] (t, dv) with
  // row stride ldo.
  const float* const* q = nullptr;
  const float* const* k = nullptr;
  const float* const* v = nullptr;
  int64_t ldq = 0, ldk = 0, ldv = 0, ldo = 0;
  const float* const* mask = nullptr;
  float* const* weights = nullptr;
  float* const* out = nullptr;
};

void attention_forward(const AttentionArgs& a);

}  // namespace heed::kernels
