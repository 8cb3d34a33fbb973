// Reference solutions to lesson 10's exercises (built with HEED_SOLUTIONS=ON).
#include <vector>

#include "autograd/ops.h"
#include "lessons/10_multi_head/exercises.h"
#include "nn/linear.h"
#include "tensor/error.h"

namespace heed::lesson10 {

Variable split_heads(const Variable& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  HEED_CHECK(heads > 0 && D % heads == 0, "split_heads: ", heads, " heads do not divide the last dim of ",
             x.shape());
  return transpose(view(x, {B, T, heads, D / heads}), 1, 2);  // (B, T, H, Dh) -> (B, H, T, Dh)
}

Variable merge_heads(const Variable& x) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), Dh = x.size(3);
  return reshape(transpose(x, 1, 2), {B, T, H * Dh});  // (B, T, H, Dh) copied, then viewed
}

nn::Attention multi_head_by_hand(const nn::MultiHeadAttention& mha, const Variable& query,
                                 const Variable& key, const Variable& value, const Tensor& mask) {
  const int64_t H = mha.options().num_heads, Dh = mha.options().embed_dim / H;
  // Head h's rows of a projection: its own (Dh, D) weight and (Dh,) bias.
  auto project = [&](const nn::Linear& proj, const Variable& x, int64_t h) {
    return nn::linear(x, narrow(proj.weight, 0, h * Dh, Dh), narrow(proj.bias, 0, h * Dh, Dh));
  };
  std::vector<Variable> outputs, weights;
  for (int64_t h = 0; h < H; ++h) {
    nn::Attention head = nn::scaled_dot_product_attention(
        project(*mha.q_proj, query, h), project(*mha.k_proj, key, h), project(*mha.v_proj, value, h), mask);
    outputs.push_back(head.output);   // (B, T, Dh)
    weights.push_back(head.weights);  // (B, T, S)
  }
  return {mha.out_proj->forward(cat(outputs, -1)), stack(weights, 1)};
}

Variable kv_cache_step(const nn::MultiHeadAttention& mha, const Variable& x_new, nn::KVCache& cache) {
  const int64_t H = mha.options().num_heads;
  Variable q = split_heads(mha.q_proj->forward(x_new), H);  // (B, H, T_new, Dh)
  Variable k = split_heads(mha.k_proj->forward(x_new), H);
  Variable v = split_heads(mha.v_proj->forward(x_new), H);
  if (cache.k.defined()) {
    k = cat({cache.k, k}, 2);  // (B, H, S_past + T_new, Dh)
    v = cat({cache.v, v}, 2);
  }
  cache.k = k;
  cache.v = v;
  const Tensor mask = nn::causal_mask(q.size(2), k.size(2));  // new query i sits at S - T_new + i
  return mha.out_proj->forward(merge_heads(nn::scaled_dot_product_attention(q, k, v, mask).output));
}

}  // namespace heed::lesson10
