#include "nn/attention/scaled_dot_product.h"

#include <cmath>

namespace heed::nn {

Variable attention_weights(const Variable& q, const Variable& k, const Tensor& mask) {
  HEED_CHECK(q.dim() >= 2 && k.dim() >= 2 && q.size(-1) == k.size(-1), "attention: queries of shape ",
             q.shape(), " and keys of shape ", k.shape(),
             " need matching last dims (..., T, Dh) and (..., S, Dh)");
  // (..., T, Dh)(..., Dh, S) -> (..., T, S); the transpose is a view the kernel reads as is.
  // Dividing by sqrt(Dh) keeps the scores' variance near 1 whatever the head width,
  // so the softmax does not saturate as Dh grows; scaling q (T*Dh numbers) is
  // cheaper than scaling the scores (T*S).
  Variable scores = matmul(q * (1.0f / std::sqrt(float(q.size(-1)))), transpose(k, -2, -1));
  return masked_softmax(scores, mask, -1);
}

Attention scaled_dot_product_attention(const Variable& q, const Variable& k, const Variable& v,
                                       const Tensor& mask) {
  HEED_CHECK(v.dim() >= 2 && v.size(-2) == k.size(-2), "attention: keys of shape ", k.shape(),
             " but values of shape ", v.shape(), "; keys and values need one row per position");
  // Nothing to record (inference, or constants only): one kernel does it all,
  // the (..., T, S) block in cache from the scores to the product with v.
  auto lead = [](const Variable& x) { return std::vector<int64_t>(x.shape().begin(), x.shape().end() - 2); };
  if (!would_record({q, k, v}) && lead(q) == lead(k) && lead(q) == lead(v)) {
    AttentionResult r = attention(q.value(), k.value(), v.value(), mask, 1.0f / std::sqrt(float(q.size(-1))));
    return {r.output, r.weights};
  }
  Variable weights = attention_weights(q, k, mask);
  return {matmul(weights, v), weights};  // (..., T, S)(..., S, Dv) -> (..., T, Dv)
}

Tensor causal_mask(int64_t T, int64_t S) {
  if (S < 0) S = T;
  HEED_CHECK(T >= 0 && S >= T, "causal_mask: ", T, " queries need at least as many keys, got ", S);
  Tensor mask = empty({T, S});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < S; ++j) mask.data()[i * S + j] = j > S - T + i ? 1.0f : 0.0f;
  return mask;
}

Tensor key_padding_mask(const std::vector<int64_t>& lengths, int64_t S) {
  const int64_t B = int64_t(lengths.size());
  Tensor mask = empty({B, S});
  for (int64_t b = 0; b < B; ++b) {
    HEED_CHECK(lengths[b] >= 0 && lengths[b] <= S, "key_padding_mask: length ", lengths[b], " of sequence ",
               b, " is outside [0, ", S, "]");
    for (int64_t j = 0; j < S; ++j) mask.data()[b * S + j] = j >= lengths[b] ? 1.0f : 0.0f;
  }
  return mask;
}

}  // namespace heed::nn
