// Reference solutions to lesson 14's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>

#include "autograd/ops.h"
#include "lessons/14_transformer/exercises.h"

namespace heed::lesson14 {
namespace {

// x: (B, T, D) -> linear2(act(linear1(x))): (B, T, D)
Variable feed_forward(const nn::TransformerLayerOptions& o, nn::Linear& linear1, nn::Linear& linear2,
                      const Variable& x) {
  Variable h = linear1.forward(x);  // (B, T, dim_feedforward)
  return linear2.forward(o.activation == nn::Activation::gelu ? gelu(h) : relu(h));
}

}  // namespace

Variable encoder_layer_forward(nn::TransformerEncoderLayer& layer, const Variable& src,
                               const nn::AttentionMasks& masks) {
  const nn::TransformerLayerOptions& o = layer.options();
  auto self_attention = [&](const Variable& x) { return layer.self_attn->forward(x, masks).output; };
  auto ff = [&](const Variable& x) { return feed_forward(o, *layer.linear1, *layer.linear2, x); };
  Variable x = src;
  if (o.norm_first) {
    x = x + self_attention(layer.norm1->forward(x));
    x = x + ff(layer.norm2->forward(x));
  } else {
    x = layer.norm1->forward(x + self_attention(x));
    x = layer.norm2->forward(x + ff(x));
  }
  return x;
}

Variable decoder_layer_forward(nn::TransformerDecoderLayer& layer, const Variable& tgt,
                               const Variable& memory, const Tensor& memory_padding) {
  const nn::TransformerLayerOptions& o = layer.options();
  auto self_attention = [&](const Variable& y) {
    return layer.self_attn->forward(y, {.causal = true}).output;
  };
  auto cross_attention = [&](const Variable& y) {
    return layer.multihead_attn->forward(y, memory, memory, {.key_padding = memory_padding}).output;
  };
  auto ff = [&](const Variable& y) { return feed_forward(o, *layer.linear1, *layer.linear2, y); };
  Variable y = tgt;
  if (o.norm_first) {
    y = y + self_attention(layer.norm1->forward(y));
    y = y + cross_attention(layer.norm2->forward(y));
    y = y + ff(layer.norm3->forward(y));
  } else {
    y = layer.norm1->forward(y + self_attention(y));
    y = layer.norm2->forward(y + cross_attention(y));
    y = layer.norm3->forward(y + ff(y));
  }
  return y;
}

Variable label_smoothed_cross_entropy(const Variable& logits, const Tensor& target, float smoothing,
                                      int64_t ignore_index) {
  const Tensor& z = logits.value();
  HEED_CHECK(z.dim() == 2 && target.dim() == 1 && target.size(0) == z.size(0),
             "label_smoothed_cross_entropy: expected logits (N, C) and target (N,), got ", z.shape(), " and ",
             target.shape());
  HEED_CHECK(smoothing >= 0.0f && smoothing <= 1.0f,
             "label_smoothed_cross_entropy: smoothing must lie in [0, 1], got ", smoothing);
  const int64_t n = z.size(0), classes = z.size(1);
  // q: (N, C) the target distributions, zero on ignored rows; counted: (N, 1) 1 on the others.
  Tensor q = zeros(z.shape()), counted = zeros({n, 1});
  const Tensor t = contiguous(target);
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float c = t.data()[i];
    if (c == float(ignore_index)) continue;
    HEED_CHECK(c >= 0 && c < float(classes) && c == std::floor(c), "label_smoothed_cross_entropy: target ", c,
               " of row ", i, " is not a class id in 0..", classes - 1, " nor ignore_index ", ignore_index);
    for (int64_t j = 0; j < classes; ++j) q.at({i, j}) = smoothing / float(classes);
    q.at({i, int64_t(c)}) += 1.0f - smoothing;
    counted.at({i, 0}) = 1.0f;
    ++kept;
  }
  const float denominator = float(std::max<int64_t>(kept, 1));
  const Tensor m = amax(z, {-1}, /*keepdim=*/true);
  const Tensor log_p = z - (m + log(sum(exp(z - m), {-1}, /*keepdim=*/true)));  // (N, C)
  Tensor loss = -sum(log_p * q) / denominator;
  return record("label_smoothed_cross_entropy", loss, {logits},
                [p = Saved(exp(log_p), "its softmax"), q = Saved(q, "the target distributions"),
                 counted = Saved(counted, "the counted rows"), denominator](const Tensor& grad) {
                  return Grads{(p.get() - q.get()) * counted.get() * (grad / denominator)};
                });
}

}  // namespace heed::lesson14
