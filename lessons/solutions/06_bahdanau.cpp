// Reference solutions to lesson 06's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>

#include "lessons/06_bahdanau/exercises.h"
#include "nn/nn.h"

namespace heed::lesson06 {

Variable additive_scores(const nn::BahdanauAttention& attention, const Variable& query, const Variable& keys,
                         const Tensor& key_padding) {
  const int64_t B = keys.size(0), S = keys.size(1);
  Variable q = matmul(query, transpose(attention.w_q->weight, 0, 1));                       // (B, Hd)
  Variable k = matmul(keys, transpose(attention.w_k->weight, 0, 1)) + attention.w_k->bias;  // (B, S, Hd)
  Variable hidden = tanh(unsqueeze(q, 1) + k);                                              // (B, S, Hd)
  Variable e = reshape(matmul(hidden, transpose(attention.v->weight, 0, 1)), {B, S});       // (B, S, 1)
  return key_padding.defined() ? masked_fill(e, key_padding, -INFINITY) : e;
}

Variable masked_softmax_last(const Variable& scores, const Tensor& mask) {
  const Tensor hidden = ne(mask, scalar(0.0f)), visible = eq(mask, scalar(0.0f));
  // The largest visible score per row, a constant (softmax does not depend on
  // it); 0 for a fully hidden row, whose max would be -inf.
  Tensor row_max = amax(masked_fill(scores.value(), hidden, -INFINITY), {-1}, /*keepdim=*/true);
  row_max = masked_fill(row_max, eq(row_max, scalar(-INFINITY)), 0.0f);
  // Hidden scores become 0 before exp (they may be -inf, and -inf - -inf is
  // NaN), and their exp is then multiplied away.
  Variable e = exp(masked_fill(scores - Variable(row_max), hidden, 0.0f)) * Variable(visible);
  Variable total = sum(e, {-1}, /*keepdim=*/true);
  // A fully hidden row sums to 0: divide it by 1 instead (0 / 1 = 0).
  return e / (total + Variable(eq(total.value(), scalar(0.0f))));
}

nn::Attention additive_attention(const nn::BahdanauAttention& attention, const Variable& query,
                                 const Variable& keys, const Tensor& key_padding) {
  const int64_t B = keys.size(0), S = keys.size(1);
  Variable e = additive_scores(attention, query, keys, key_padding);
  Variable a = masked_softmax_last(e, key_padding.defined() ? key_padding : zeros({B, S}));
  // (B, 1, S)(B, S, Dk) -> (B, 1, Dk) -> (B, Dk)
  Variable context = reshape(matmul(unsqueeze(a, 1), keys), {B, keys.size(2)});
  return {context, a};
}

}  // namespace heed::lesson06
