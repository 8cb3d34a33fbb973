// Focus attention: multi-head attention whose scores are joined by a
// Gaussian window over key positions, one per head and query, whose centre
// and width the query itself predicts. A head can learn to look near a
// place (a small sigma) or everywhere (a large one), and mu and sigma say
// where it looked.
//
// For head h and query t, with q the head's projected query (before scaling):
//   mu    = (S_b - 1) sigmoid(w_mu . q + b_mu)              S_b: sequence b's keys
//   sigma = sigma_min + softplus(w_sigma . q + b_sigma)
//   weights_j = softmax_j(q . k_j / sqrt(Dh) - (j - mu)^2 / (2 sigma^2))
// which is the attention weights times the Gaussian exp(-(j - mu)^2 / (2 sigma^2)),
// renormalized. mu and sigma are differentiable: the window moves with training.
//
// FocusLSTM classifies sequences: Embedding -> LSTM -> FocusAttention over the
// LSTM's outputs -> the mean over the real (unpadded) positions -> Linear.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nn/attention/multi_head.h"
#include "nn/embedding.h"
#include "nn/rnn.h"

namespace heed::nn {

struct FocusAttentionOptions {
  int64_t embed_dim = 0;  // D
  int64_t num_heads = 1;  // H
  float dropout = 0.0f;   // on the attention weights, in training
  bool bias = true;
  float sigma_min = 0.5f;  // the narrowest window, in positions
  std::optional<uint64_t> seed = std::nullopt;
};

struct FocusAttentionOutput {
  Variable output;   // (B, T, D)
  Variable weights;  // (B, H, T, S)
  Variable mu;       // (B, H, T): each head's centre for each query
  Variable sigma;    // (B, H, T): and its width
};

class FocusAttention : public Module {
 public:
  explicit FocusAttention(const FocusAttentionOptions& options);
  FocusAttention(const FocusAttentionOptions& options, Generator& gen);

  // query: (B, T, D)  key, value: (B, S, D)  key_padding: (B, S), non-zero at padding
  FocusAttentionOutput forward(const Variable& query, const Variable& key, const Variable& value,
                               const Tensor& key_padding = Tensor());
  FocusAttentionOutput forward(const Variable& x, const Tensor& key_padding = Tensor()) {
    return forward(x, x, x, key_padding);
  }
  std::string describe() const override;

  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj;
  Variable mu_weight, mu_bias;        // (H, Dh), (H,)
  Variable sigma_weight, sigma_bias;  // (H, Dh), (H,); sigma_bias starts at 2 (sigma ~ sigma_min + 2.1)
  std::shared_ptr<Dropout> attn_dropout;

 private:
  void build(Generator& gen);
  FocusAttentionOptions options_;
};

struct FocusLSTMOptions {
  int64_t vocab_size = 0;   // V
  int64_t hidden_size = 0;  // Hid: the embedding, the LSTM and the attention width
  int64_t num_layers = 1;   // of the LSTM
  int64_t num_heads = 1;    // of the focus attention (hidden_size % num_heads == 0)
  int64_t num_classes = 2;  // C
  std::optional<uint64_t> seed = std::nullopt;
};

struct FocusLSTMOutput {
  Variable logits;                 // (B, C)
  FocusAttentionOutput attention;  // weights (B, H, T, T), mu and sigma (B, H, T)
};

class FocusLSTM : public Module {
 public:
  explicit FocusLSTM(const FocusLSTMOptions& options);

  // input_ids: (B, T) token ids; padding_mask: (B, T), non-zero at padding
  // (heed's convention; a HuggingFace attention_mask is the opposite: pass 1 - it).
  //   auto [logits, attention] = model.forward(ids, mask);
  FocusLSTMOutput forward(const Tensor& input_ids, const Tensor& padding_mask = Tensor());
  std::string describe() const override;

  std::shared_ptr<Embedding> embedding;
  std::shared_ptr<LSTM> lstm;
  std::shared_ptr<FocusAttention> attention;
  std::shared_ptr<Linear> classifier;

 private:
  FocusLSTMOptions options_;
};

}  // namespace heed::nn
