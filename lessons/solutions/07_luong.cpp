// Reference solutions to lesson 07's exercises (built with HEED_SOLUTIONS=ON).
#include "lessons/07_luong/exercises.h"
#include "nn/nn.h"

namespace heed::lesson07 {

nn::LuongOutput luong_general(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys,
                              const Tensor& key_padding) {
  const int64_t B = keys.size(0), S = keys.size(1), Hid = keys.size(2);
  // h_t^T W_a h_s = (W_a^T h_t) . h_s: (B, Hid) once, then (B, 1, Hid)(B, Hid, S)
  Variable query = matmul(h_t, attention.w_a->weight);
  Variable scores = reshape(matmul(unsqueeze(query, 1), transpose(keys, 1, 2)), {B, S});
  Variable weights = masked_softmax(scores, key_padding, -1);
  Variable context = reshape(matmul(unsqueeze(weights, 1), keys), {B, Hid});  // (B, 1, S)(B, S, Hid)
  Variable attentional = tanh(matmul(cat({context, h_t}, 1), transpose(attention.w_c->weight, 0, 1)));
  return {attentional, context, weights, Variable()};
}

Variable luong_concat_scores(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys) {
  const int64_t B = keys.size(0), S = keys.size(1), Hid = keys.size(2);
  Variable pairs = cat({expand(unsqueeze(h_t, 1), {B, S, Hid}), keys}, 2);         // (B, S, 2 Hid)
  Variable hidden = tanh(matmul(pairs, transpose(attention.w_a->weight, 0, 1)));   // (B, S, Hid)
  return reshape(matmul(hidden, transpose(attention.v_a->weight, 0, 1)), {B, S});  // (B, S, 1)
}

LocalPWindow local_p_window(const nn::LuongAttention& attention, const Variable& h_t, const Tensor& lengths,
                            int64_t S) {
  const int64_t B = h_t.size(0);
  const float D = float(attention.options().half_window), sigma = D / 2.0f;
  Variable hidden = tanh(matmul(h_t, transpose(attention.w_p->weight, 0, 1)));  // (B, Hid)
  Variable position =
      reshape(sigmoid(matmul(hidden, transpose(attention.v_p->weight, 0, 1))), {B}) * Variable(lengths);
  // (1, S) positions minus (B, 1) centres -> (B, S)
  Variable distance = Variable(unsqueeze(arange(S), 0)) - unsqueeze(position, 1);
  Variable gaussian = exp(distance * distance * (-0.5f / (sigma * sigma)));
  Tensor outside = gt(abs(distance.value()), scalar(D));
  return {position, gaussian, outside};
}

}  // namespace heed::lesson07
