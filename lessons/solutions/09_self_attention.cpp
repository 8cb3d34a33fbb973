// Reference solutions to lesson 09's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "lessons/09_self_attention/exercises.h"

namespace heed::lesson09 {

AttentionTensors attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  const float scale = 1.0f / std::sqrt(float(q.size(-1)));
  Tensor scores = matmul(q, transpose(k, -2, -1)) * scale;  // (..., T, S)
  // The lowest finite float, not -inf: a fully hidden row then has max - max = 0,
  // not -inf - (-inf) = NaN.
  if (mask.defined()) scores = masked_fill(scores, mask, std::numeric_limits<float>::lowest());
  Tensor e = exp(scores - amax(scores, {-1}, /*keepdim=*/true));  // every exponent <= 0: no overflow
  if (mask.defined()) e = masked_fill(e, mask, 0.0f);
  // A row with a visible key sums to >= 1 (its max gives exp(0)); a fully
  // hidden row sums to 0 and stays 0 when divided by 1.
  Tensor weights = e / maximum(sum(e, {-1}, /*keepdim=*/true), scalar(1.0f));
  return {matmul(weights, v), weights};
}

Variable attention_op(const Variable& q, const Variable& k, const Variable& v, const Tensor& mask) {
  const float scale = 1.0f / std::sqrt(float(q.size(-1)));
  Tensor w =
      masked_softmax(matmul(q.value(), transpose(k.value(), -2, -1)) * scale, mask, -1);  // (..., T, S)
  Tensor out = matmul(w, v.value());                                                      // (..., T, Dv)
  return record("attention", out, {q, k, v},
                [w = Saved(w, "its weights"), qs = Saved(q.value(), "its input 0"),
                 ks = Saved(k.value(), "its input 1"), vs = Saved(v.value(), "its input 2"),
                 scale](const Tensor& grad) {
                  const Tensor& W = w;
                  Tensor dv = matmul(transpose(W, -2, -1), grad);               // (..., S, T)(..., T, Dv)
                  Tensor dw = matmul(grad, transpose(vs.get(), -2, -1));        // (..., T, S)
                  Tensor ds = W * (dw - sum(dw * W, {-1}, /*keepdim=*/true));   // through the softmax
                  Tensor dq = matmul(ds, ks.get()) * scale;                     // (..., T, Dh)
                  Tensor dk = matmul(transpose(ds, -2, -1), qs.get()) * scale;  // (..., S, Dh)
                  return Grads{dq, dk, dv};
                });
}

Tensor self_attention_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t S, bool causal) {
  const int64_t B = int64_t(lengths.size());
  Tensor mask = zeros({B, T, S});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < S; ++j) {
        const bool padding = j >= lengths[b];
        const bool future = causal && j > S - T + i;
        mask.data()[(b * T + i) * S + j] = padding || future ? 1.0f : 0.0f;
      }
  return mask;
}

}  // namespace heed::lesson09
