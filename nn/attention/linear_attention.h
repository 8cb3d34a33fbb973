// Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"):
// softmax's similarity exp(q . k) replaced by a dot product of feature maps,
// sim(q, k) = phi(q) . phi(k) with phi(x) = elu(x) + 1 (positive everywhere,
// so every weight is positive). Then the sum over keys factors:
//
//   out_i = sum_j (phi(q_i) . phi(k_j)) v_j / sum_j phi(q_i) . phi(k_j)
//         = phi(q_i)^T (sum_j phi(k_j) v_j^T) / (phi(q_i)^T sum_j phi(k_j))
//
// q: (..., T, d)  k: (..., S, d)  v: (..., S, e)  ->  out: (..., T, e)
//
// Non-causal: KV = phi(K)^T V: (..., d, e) and z = sum_j phi(k_j): (..., d)
// are made once and every query reads them: O((T + S) d e) time, and no
// (T, S) matrix ever exists (softmax attention: O(T S (d + e))).
//
// Causal: query i sums over keys j <= i only, so the sums become running state,
// an RNN over positions:
//   S_i = S_{i-1} + phi(k_i) v_i^T  (d, e)     z_i = z_{i-1} + phi(k_i)  (d)
//   out_i = phi(q_i)^T S_i / (phi(q_i)^T z_i)
// O(T d e) time, O(d e) state. As with causal_mask, S > T puts the T queries
// at the last T of the S positions.
//
// Design decisions:
//  - The causal recurrence is ONE autograd op (causal_linear_attention) on
//    feature-mapped inputs, with its backward written by hand: recorded as T
//    small ops, its graph alone would hold T (d, e) states. Its backward is the
//    reverse-time recurrence
//      R_j = R_{j+1} + phi(q_j) dnum_j^T  (d, e)   r_j = r_{j+1} + dden_j phi(q_j)  (d)
//      dphi(k_j) = R_j v_j + r_j     dv_j = R_j^T phi(k_j)
//    and it recomputes the prefix sums S_i, z_i in a forward sweep instead of
//    saving them: the op saves its three inputs only, O(T d), never O(T d e).
//  - No 1 / sqrt(d) scale: it exists to keep exp from saturating, and phi has no
//    exp to saturate for x > 0 (the paper does not scale either).
//  - eps is added to every normaliser phi(q_i) . z_i. It is positive in exact
//    arithmetic but phi(x) = e^x underflows to 0 below x ~ -87, and a query whose
//    keys are all padding has z = 0: eps turns 0 / 0 into a zero output.
//  - Padding: a hidden key gets phi(k_j) = 0, so it adds nothing to KV and z.
//  - Decoding: LinearAttentionState holds (S_i, z_i) and linear_attention_step
//    advances it, so each new token costs O(d e) however long the prefix is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "autograd/ops.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace heed::nn {

// phi(x) = elu(x) + 1: x + 1 for x > 0, e^x otherwise.
Variable elu_feature_map(const Variable& x);

// q: (..., T, d)  k: (..., S, d)  v: (..., S, e)  ->  (..., T, e), with phi applied to q and k.
// key_padding, when given, broadcasts to k's (..., S): non-zero hides that key.
// Causal needs S >= T (the queries are the last T positions); not causal, any S.
Variable linear_attention(const Variable& q, const Variable& k, const Variable& v, bool causal = false,
                          const Tensor& key_padding = Tensor(), float eps = 1e-6f);

// The causal recurrence as one op, on features already mapped (fq = phi(q),
// fk = phi(k), non-negative): fq: (..., T, d)  fk: (..., S, d)  v: (..., S, e),
// the same leading dims  ->  (..., T, e). Query i sits at position S - T + i.
Variable causal_linear_attention(const Variable& fq, const Variable& fk, const Variable& v,
                                 float eps = 1e-6f);

// The recurrent state for decoding, (..., d, e) and (..., d); empty before the first step.
struct LinearAttentionState {
  Tensor kv;  // S = sum_j phi(k_j) v_j^T over the positions so far
  Tensor z;   // sum_j phi(k_j)
  int64_t length = 0;
};
// n new positions: q, k: (..., n, d)  v: (..., n, e)  ->  (..., n, e), each new
// query seeing every earlier position and the new ones up to itself; the state
// advances by n. Steps of any sizes give what linear_attention(causal) gives on
// the whole sequence. No gradient (decoding).
Tensor linear_attention_step(LinearAttentionState& state, const Tensor& q, const Tensor& k, const Tensor& v,
                             float eps = 1e-6f);

// Multi-head linear attention: MultiHeadAttention with linear_attention in the
// place of softmax attention, and the same parameters (q_proj, k_proj, v_proj,
// out_proj, each a Linear (D, D)), so one trains where the other did.
//   query: (B, T, D)  key, value: (B, S, D)  ->  (B, T, D)
// It returns no weights: never forming the (T, S) matrix is the point.
struct LinearAttentionOptions {
  int64_t embed_dim = 0;                        // D, split into num_heads heads of Dh = D / H
  int64_t num_heads = 1;                        // H
  bool causal = false;                          // query i sees keys at positions <= its own
  bool bias = true;                             // in all four projections
  std::optional<uint64_t> seed = std::nullopt;  // else the default generator
};

class LinearAttention : public Module {
 public:
  explicit LinearAttention(const LinearAttentionOptions& options);
  LinearAttention(const LinearAttentionOptions& options, Generator& gen);

  // key_padding: (B, S), non-zero at padded keys, or undefined.
  Variable forward(const Variable& query, const Variable& key, const Variable& value,
                   const Tensor& key_padding = Tensor());
  Variable forward(const Variable& x, const Tensor& key_padding = Tensor()) {
    return forward(x, x, x, key_padding);
  }

  std::string describe() const override;
  const LinearAttentionOptions& options() const { return options_; }

  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj;

 private:
  void build(Generator& gen);
  LinearAttentionOptions options_;
};

}  // namespace heed::nn
