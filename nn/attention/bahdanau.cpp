#include "nn/attention/bahdanau.h"

namespace heed::nn {

BahdanauAttention::BahdanauAttention(const BahdanauAttentionOptions& options)
    : Module("BahdanauAttention"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

BahdanauAttention::BahdanauAttention(const BahdanauAttentionOptions& options, Generator& gen)
    : Module("BahdanauAttention"), options_(options) {
  build(gen);
}

void BahdanauAttention::build(Generator& gen) {
  const int64_t Dq = options_.query_size, Dk = options_.key_size, Hd = options_.hidden_size;
  HEED_CHECK(Dq > 0 && Dk > 0 && Hd > 0,
             "BahdanauAttention: query_size, key_size and hidden_size must be positive, got ", Dq, ", ", Dk,
             " and ", Hd);
  w_q = register_module("w_q", std::make_shared<Linear>(
                                   LinearOptions{.in_features = Dq, .out_features = Hd, .bias = false}, gen));
  w_k = register_module("w_k",
                        std::make_shared<Linear>(LinearOptions{.in_features = Dk, .out_features = Hd}, gen));
  v = register_module(
      "v", std::make_shared<Linear>(LinearOptions{.in_features = Hd, .out_features = 1, .bias = false}, gen));
}

BahdanauAttention::Memory BahdanauAttention::remember(const Variable& keys, const Tensor& key_padding) const {
  HEED_CHECK(keys.dim() == 3 && keys.size(2) == options_.key_size, describe(), ": expected keys (B, S, ",
             options_.key_size, "), got ", keys.shape());
  HEED_CHECK(!key_padding.defined() || key_padding.shape() == Shape({keys.size(0), keys.size(1)}), describe(),
             ": key_padding must be (B, S) = (", keys.size(0), ", ", keys.size(1), "), got ",
             key_padding.shape());
  return {keys, w_k->forward(keys), key_padding};
}

Attention BahdanauAttention::forward(const Variable& query, const Memory& memory) const {
  const int64_t B = memory.keys.size(0), S = memory.keys.size(1);
  HEED_CHECK(query.shape() == Shape({B, options_.query_size}), describe(), ": expected query (", B, ", ",
             options_.query_size, "), got ", query.shape());
  // (B, 1, Hd) + (B, S, Hd) -> tanh -> v -> (B, S, 1) -> (B, S)
  Variable hidden = tanh(unsqueeze(w_q->forward(query), 1) + memory.projected);
  Variable e = reshape(v->forward(hidden), {B, S});
  Variable weights = masked_softmax(e, memory.key_padding, -1);
  // (B, 1, S)(B, S, Dk) -> (B, 1, Dk) -> (B, Dk)
  Variable context = reshape(matmul(unsqueeze(weights, 1), memory.keys), {B, options_.key_size});
  return {context, weights};
}

std::string BahdanauAttention::describe() const {
  return detail::concat("BahdanauAttention(query_size=", options_.query_size,
                        ", key_size=", options_.key_size, ", hidden_size=", options_.hidden_size, ")");
}

}  // namespace heed::nn
