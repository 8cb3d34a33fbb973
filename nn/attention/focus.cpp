#include "nn/attention/focus.h"

#include <cmath>

namespace heed::nn {
namespace {

// softplus(x) = log(1 + e^x), written as relu(x) + log(1 + e^-|x|) so that
// neither exp overflows for large |x|.
Variable softplus(const Variable& x) { return relu(x) + log(exp(-abs(x)) + 1.0f); }

}  // namespace

FocusAttention::FocusAttention(const FocusAttentionOptions& options)
    : Module("FocusAttention"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

FocusAttention::FocusAttention(const FocusAttentionOptions& options, Generator& gen)
    : Module("FocusAttention"), options_(options) {
  build(gen);
}

void FocusAttention::build(Generator& gen) {
  const int64_t D = options_.embed_dim, H = options_.num_heads;
  HEED_CHECK(D > 0 && H > 0 && D % H == 0, "FocusAttention: embed_dim ", D, " must split into num_heads ", H,
             " equal heads (embed_dim % num_heads == 0)");
  HEED_CHECK(options_.sigma_min > 0.0f, "FocusAttention: sigma_min must be positive, got ",
             options_.sigma_min);
  const int64_t Dh = D / H;
  for (auto [name, proj] :
       {std::pair{"q_proj", &q_proj}, {"k_proj", &k_proj}, {"v_proj", &v_proj}, {"out_proj", &out_proj}})
    *proj = register_module(
        name, std::make_shared<Linear>(
                  LinearOptions{.in_features = D, .out_features = D, .bias = options_.bias}, gen));
  // Like a Linear(Dh -> 1) per head: U(-1/sqrt(Dh), 1/sqrt(Dh)). mu starts near
  // the middle (b_mu = 0), sigma a few positions wide.
  const float bound = 1.0f / std::sqrt(float(Dh));
  mu_weight = register_parameter("mu_weight", uniform({H, Dh}, -bound, bound, gen));
  mu_bias = register_parameter("mu_bias", zeros({H}));
  sigma_weight = register_parameter("sigma_weight", uniform({H, Dh}, -bound, bound, gen));
  sigma_bias = register_parameter("sigma_bias", full({H}, 2.0f));
  if (options_.dropout > 0.0f)
    attn_dropout = register_module("attn_dropout",
                                   std::make_shared<Dropout>(DropoutOptions{.p = options_.dropout}, gen));
}

FocusAttentionOutput FocusAttention::forward(const Variable& query, const Variable& key,
                                             const Variable& value, const Tensor& key_padding) {
  const int64_t D = options_.embed_dim, H = options_.num_heads, Dh = D / H;
  HEED_CHECK(query.dim() == 3 && query.size(2) == D && key.dim() == 3 && key.shape() == value.shape() &&
                 key.size(0) == query.size(0) && key.size(2) == D,
             describe(), ": expected query (B, T, ", D, ") and key, value (B, S, ", D, "), got ",
             query.shape(), ", ", key.shape(), " and ", value.shape());
  const int64_t B = query.size(0), T = query.size(1), S = key.size(1);
  Tensor mask = detail::combine_masks({.key_padding = key_padding}, B, T, S, "FocusAttention");

  Variable q = detail::split_heads(q_proj->forward(query), H);  // (B, H, T, Dh)
  Variable k = detail::split_heads(k_proj->forward(key), H);    // (B, H, S, Dh)
  Variable v = detail::split_heads(v_proj->forward(value), H);

  // Per head and query: w . q + b, (B, H, T, Dh) * (1, H, 1, Dh) summed over Dh -> (B, H, T)
  auto per_head = [&](const Variable& w, const Variable& b) {
    return sum(q * reshape(w, {1, H, 1, Dh}), {3}) + reshape(b, {1, H, 1});
  };
  // S_b - 1 for each sequence: (B, 1, 1), so mu stays on sequence b's real keys
  Tensor last =
      key_padding.defined() ? sum(eq(key_padding, scalar(0.0f)), {1}) - 1.0f : full({B}, float(S - 1));
  Variable mu = sigmoid(per_head(mu_weight, mu_bias)) * Variable(reshape(last, {B, 1, 1}));
  Variable sigma = softplus(per_head(sigma_weight, sigma_bias)) + options_.sigma_min;

  // scores - (j - mu)^2 / (2 sigma^2): (B, H, T, S)
  Variable distance = Variable(reshape(arange(S), {1, 1, 1, S})) - unsqueeze(mu, 3);
  Variable penalty = distance * distance / unsqueeze(sigma * sigma * 2.0f, 3);
  Variable scores = matmul(q * (1.0f / std::sqrt(float(Dh))), transpose(k, -2, -1)) - penalty;
  Variable weights = masked_softmax(scores, mask, -1);
  Variable dropped = attn_dropout ? attn_dropout->forward(weights) : weights;
  Variable out = out_proj->forward(detail::merge_heads(matmul(dropped, v)));
  return {out, weights, mu, sigma};
}

std::string FocusAttention::describe() const {
  return detail::concat("FocusAttention(embed_dim=", options_.embed_dim, ", num_heads=", options_.num_heads,
                        ", dropout=", options_.dropout, ", sigma_min=", options_.sigma_min, ")");
}

// ------------------------------------------------------------- FocusLSTM
FocusLSTM::FocusLSTM(const FocusLSTMOptions& options) : Module("FocusLSTM"), options_(options) {
  HEED_CHECK(options.vocab_size > 0 && options.hidden_size > 0 && options.num_classes > 0, describe(),
             ": vocab_size, hidden_size and num_classes must be positive");
  Generator gen = generator_from(options.seed);
  const int64_t Hid = options.hidden_size;
  embedding = register_module(
      "embedding", std::make_shared<Embedding>(
                       EmbeddingOptions{.num_embeddings = options.vocab_size, .embedding_dim = Hid}, gen));
  lstm = register_module(
      "lstm", std::make_shared<LSTM>(
                  LSTMOptions{.input_size = Hid, .hidden_size = Hid, .num_layers = options.num_layers}, gen));
  attention = register_module(
      "attention", std::make_shared<FocusAttention>(
                       FocusAttentionOptions{.embed_dim = Hid, .num_heads = options.num_heads}, gen));
  classifier = register_module(
      "classifier",
      std::make_shared<Linear>(LinearOptions{.in_features = Hid, .out_features = options.num_classes}, gen));
}

FocusLSTMOutput FocusLSTM::forward(const Tensor& input_ids, const Tensor& padding_mask) {
  HEED_CHECK(input_ids.dim() == 2, describe(), ": expected input_ids (B, T), got ", input_ids.shape());
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  HEED_CHECK(!padding_mask.defined() || padding_mask.shape() == input_ids.shape(), describe(),
             ": padding_mask must be (B, T) = ", input_ids.shape(), ", got ", padding_mask.shape());
  // (B, T): 1 at real tokens; padding sits at the end of each sequence
  Tensor real = padding_mask.defined() ? eq(padding_mask, scalar(0.0f)) : ones({B, T});
  Tensor lengths = sum(real, {1});
  Variable h = lstm->forward(embedding->forward(input_ids), {}, Lengths(lengths)).output;  // (B, T, Hid)
  FocusAttentionOutput attended = attention->forward(h, padding_mask);
  // the mean over real positions: (B, T, Hid) * (B, T, 1), summed over T, / (B, 1)
  Variable pooled = sum(attended.output * Variable(unsqueeze(real, 2)), {1}) /
                    Variable(unsqueeze(maximum(lengths, scalar(1.0f)), 1));
  return {classifier->forward(pooled), attended};
}

std::string FocusLSTM::describe() const {
  return detail::concat("FocusLSTM(vocab_size=", options_.vocab_size, ", hidden_size=", options_.hidden_size,
                        ", num_layers=", options_.num_layers, ", num_heads=", options_.num_heads,
                        ", num_classes=", options_.num_classes, ")");
}

}  // namespace heed::nn
