// Reference solutions to lesson 16's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>

#include "autograd/ops.h"
#include "lessons/16_interpreting/exercises.h"

namespace heed::lesson16 {

Tensor attention_rollout(const std::vector<Tensor>& layers) {
  HEED_CHECK(!layers.empty(), "attention_rollout: no layers");
  const Shape first = layers[0].shape();
  Tensor rollout;
  for (size_t l = 0; l < layers.size(); ++l) {
    const Tensor& w = layers[l];
    HEED_CHECK(w.dim() == 4 && w.size(2) == w.size(3), "attention_rollout: layer ", l,
               " must be (B, H, T, T), got ", w.shape());
    HEED_CHECK(w.shape() == first, "attention_rollout: layer ", l, " is ", w.shape(), " but layer 0 is ",
               first);
    const int64_t T = w.size(2);
    const Tensor eye = from_vector(std::vector<float>(T * T, 0.0f), {T, T});
    for (int64_t i = 0; i < T; ++i) eye.at({i, i}) = 1.0f;
    const Tensor mixed = mean(w, {1}) + eye;                        // (B, T, T)
    const Tensor hat = mixed / sum(mixed, {-1}, /*keepdim=*/true);  // rows sum to 1
    rollout = rollout.defined() ? matmul(hat, rollout) : hat;       // later layers on the left
  }
  return rollout;
}

nn::Attention masked_heads_attention(nn::MultiHeadAttention& mha, const Variable& x, const Tensor& head_mask,
                                     const Tensor& key_padding) {
  const int64_t H = mha.options().num_heads, D = mha.options().embed_dim, Dh = D / H;
  HEED_CHECK(x.dim() == 3 && x.size(2) == D, "masked_heads_attention: expected x (B, T, ", D, "), got ",
             x.shape());
  HEED_CHECK(head_mask.dim() == 1 && head_mask.size(0) == H, "masked_heads_attention: head_mask must be (", H,
             ",), got ", head_mask.shape());
  const int64_t B = x.size(0), T = x.size(1);
  auto split = [&](const Variable& y) { return transpose(view(y, {B, T, H, Dh}), 1, 2); };  // (B, H, T, Dh)
  const Variable q = split(mha.q_proj->forward(x)), k = split(mha.k_proj->forward(x)),
                 v = split(mha.v_proj->forward(x));
  const Tensor mask = key_padding.defined() ? view(key_padding, {B, 1, 1, T}) : Tensor();
  const Variable weights = nn::attention_weights(q, k, mask);  // (B, H, T, T)
  const Variable heads = matmul(weights, v) * Variable(view(head_mask, {1, H, 1, 1}));
  const Variable merged = reshape(transpose(heads, 1, 2), {B, T, D});  // (B, T, H, Dh) -> (B, T, D)
  return {mha.out_proj->forward(merged), weights};
}

Variable attention_entropy(const Variable& weights) {
  HEED_CHECK(weights.dim() >= 1, "attention_entropy: expected weights (..., T, S), got ", weights.shape());
  const Tensor w = contiguous(weights.value());
  const int64_t S = w.size(-1), rows = S == 0 ? 0 : w.numel() / S;
  Shape rows_shape = w.shape();
  rows_shape.pop_back();
  Tensor entropy = zeros(rows_shape), slope = zeros(w.shape());  // slope: d H_i / d w_ij
  for (int64_t r = 0; r < rows; ++r) {
    double h = 0;
    for (int64_t j = 0; j < S; ++j) {
      const double p = w.data()[r * S + j];
      if (p <= 0) continue;  // 0 log 0 = 0, and no gradient at a hidden key
      h -= p * std::log(p);
      slope.data()[r * S + j] = float(-(std::log(p) + 1));
    }
    entropy.data()[r] = float(h);
  }
  return record("attention_entropy", entropy, {weights},
                [slope = Saved(slope, "d entropy / d weights")](const Tensor& grad) {
                  return Grads{slope.get() * unsqueeze(grad, -1)};  // (..., T, S) * (..., T, 1)
                });
}

}  // namespace heed::lesson16
