#include "nn/attention/luong.h"

#include <cmath>

#include "autograd/ops.h"

namespace heed::nn {
namespace {

const char* name_of(LuongScore s) {
  switch (s) {
    case LuongScore::dot:
      return "dot";
    case LuongScore::general:
      return "general";
    case LuongScore::concat:
      return "concat";
    case LuongScore::location:
      return "location";
  }
  return "?";
}

const char* name_of(LuongWindow w) {
  switch (w) {
    case LuongWindow::global:
      return "global";
    case LuongWindow::local_m:
      return "local_m";
    case LuongWindow::local_p:
      return "local_p";
  }
  return "?";
}

// (B,): the unmasked length of each sequence (S without padding).
Tensor lengths_of(const Tensor& key_padding, int64_t B, int64_t S) {
  if (!key_padding.defined()) return full({B}, float(S));
  return sum(eq(key_padding, scalar(0.0f)), {1});
}

}  // namespace

Variable gaussian_window(const Variable& p, int64_t S, float sigma) {
  // (1, S) positions minus (B, 1) centres -> (B, S)
  Variable d = Variable(unsqueeze(arange(S), 0)) - unsqueeze(p, 1);
  return exp(d * d * (-0.5f / (sigma * sigma)));
}

LuongAttention::LuongAttention(const LuongAttentionOptions& options)
    : Module("LuongAttention"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

LuongAttention::LuongAttention(const LuongAttentionOptions& options, Generator& gen)
    : Module("LuongAttention"), options_(options) {
  build(gen);
}

void LuongAttention::build(Generator& gen) {
  const int64_t Hid = options_.hidden_size;
  HEED_CHECK(Hid > 0, "LuongAttention: hidden_size must be positive, got ", Hid);
  HEED_CHECK(options_.window == LuongWindow::global || options_.half_window >= 1, describe(),
             ": a local window needs half_window >= 1, got ", options_.half_window);
  HEED_CHECK(options_.score != LuongScore::location || options_.max_source_length > 0, describe(),
             ": the location score needs max_source_length > 0 (one score per source position)");
  auto linear = [&](const char* name, int64_t in, int64_t out) {
    return register_module(
        name,
        std::make_shared<Linear>(LinearOptions{.in_features = in, .out_features = out, .bias = false}, gen));
  };
  switch (options_.score) {
    case LuongScore::dot:
      break;
    case LuongScore::general:
      w_a = linear("w_a", Hid, Hid);
      break;
    case LuongScore::concat:
      w_a = linear("w_a", 2 * Hid, Hid);
      v_a = linear("v_a", Hid, 1);
      break;
    case LuongScore::location:
      w_a = linear("w_a", Hid, options_.max_source_length);
      break;
  }
  if (options_.window == LuongWindow::local_p) {
    w_p = linear("w_p", Hid, Hid);
    v_p = linear("v_p", Hid, 1);
  }
  w_c = linear("w_c", 2 * Hid, Hid);
}

Variable LuongAttention::scores(const Variable& h_t, const Variable& keys) const {
  const int64_t B = keys.size(0), S = keys.size(1), Hid = options_.hidden_size;
  // (B, 1, Hid)(B, Hid, S) -> (B, 1, S) -> (B, S)
  auto dot_with = [&](const Variable& q) {
    return reshape(matmul(unsqueeze(q, 1), transpose(keys, 1, 2)), {B, S});
  };
  switch (options_.score) {
    case LuongScore::dot:
      return dot_with(h_t);
    // h_t . (W_a h_s) = (W_a^T h_t) . h_s: one (B, Hid) product instead of (B, S, Hid)
    case LuongScore::general:
      return dot_with(matmul(h_t, w_a->weight));
    case LuongScore::concat: {
      Variable pairs = cat({expand(unsqueeze(h_t, 1), {B, S, Hid}), keys}, 2);  // (B, S, 2 Hid)
      return reshape(v_a->forward(tanh(w_a->forward(pairs))), {B, S});
    }
    case LuongScore::location: {
      HEED_CHECK(S <= options_.max_source_length, describe(), ": ", S,
                 " source positions exceed max_source_length ", options_.max_source_length);
      return narrow(w_a->forward(h_t), 1, 0, S);  // (B, max_source_length) -> (B, S)
    }
  }
  return {};
}

LuongOutput LuongAttention::forward(const Variable& h_t, const Variable& keys, int64_t t,
                                    const Tensor& key_padding) const {
  const int64_t Hid = options_.hidden_size;
  HEED_CHECK(keys.dim() == 3 && keys.size(2) == Hid, describe(), ": expected keys (B, S, ", Hid, "), got ",
             keys.shape());
  const int64_t B = keys.size(0), S = keys.size(1);
  HEED_CHECK(h_t.shape() == Shape({B, Hid}), describe(), ": expected h_t (", B, ", ", Hid, "), got ",
             h_t.shape());
  HEED_CHECK(!key_padding.defined() || key_padding.shape() == Shape({B, S}), describe(),
             ": key_padding must be (B, S) = (", B, ", ", S, "), got ", key_padding.shape());

  Tensor hidden = key_padding.defined() ? ne(key_padding, scalar(0.0f)) : Tensor();
  Variable position, gaussian;
  const float D = float(options_.half_window);
  if (options_.window == LuongWindow::local_m) {
    position = Variable(full({B}, float(t)));
  } else if (options_.window == LuongWindow::local_p) {
    // p_t = S_b sigmoid(v_p . tanh(W_p h_t)): (B,), in [0, S_b]
    position = reshape(sigmoid(v_p->forward(tanh(w_p->forward(h_t)))), {B}) *
               Variable(lengths_of(key_padding, B, S));
    gaussian = gaussian_window(position, S, D / 2.0f);
  }
  if (position
          .defined()) {  // hide what lies outside [p_t - D, p_t + D]; the window itself passes no gradient
    Tensor distance = abs(unsqueeze(arange(S), 0) - unsqueeze(position.value(), 1));  // (B, S)
    Tensor outside = gt(distance, scalar(D));
    hidden = hidden.defined() ? add(hidden, outside) : outside;
  }
  Variable weights = masked_softmax(scores(h_t, keys), hidden, -1);
  if (gaussian.defined()) weights = weights * gaussian;
  Variable context = reshape(matmul(unsqueeze(weights, 1), keys), {B, Hid});  // (B, 1, S)(B, S, Hid)
  Variable attentional = tanh(w_c->forward(cat({context, h_t}, 1)));
  return {attentional, context, weights, position};
}

std::string LuongAttention::describe() const {
  std::string window =
      options_.window == LuongWindow::global
          ? std::string()
          : detail::concat(", window=", name_of(options_.window), ", half_window=", options_.half_window);
  return detail::concat("LuongAttention(hidden_size=", options_.hidden_size,
                        ", score=", name_of(options_.score), window, ")");
}

}  // namespace heed::nn
