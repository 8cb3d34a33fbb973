// Bahdanau (additive) attention (Bahdanau, Cho and Bengio 2015): the decoder's
// state scores each encoder output through a small one-layer network.
//
//   e_j = v^T tanh(W_q q + W_k k_j)        q: (B, Dq)  k: (B, S, Dk)
//   a = softmax_j(e) over the keys not hidden     a: (B, S)
//   context = sum_j a_j k_j                       (B, Dk)
//
// W_k k does not depend on the decoder step, so remember() computes it once per
// source sequence and every step's forward() reuses it: a step then costs one
// (B, Dq)(Dq, Hd) product and a tanh over (B, S, Hd).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nn/attention/scaled_dot_product.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace heed::nn {

struct BahdanauAttentionOptions {
  int64_t query_size = 0;   // Dq: the decoder state
  int64_t key_size = 0;     // Dk: the encoder outputs (the keys, and the values averaged)
  int64_t hidden_size = 0;  // Hd: the width of the scoring network
  std::optional<uint64_t> seed = std::nullopt;
};

class BahdanauAttention : public Module {
 public:
  // What a source sequence gives every decoder step.
  struct Memory {
    Variable keys;       // (B, S, Dk), also the values
    Variable projected;  // W_k keys: (B, S, Hd)
    Tensor key_padding;  // (B, S), non-zero at padding, or undefined
  };

  explicit BahdanauAttention(const BahdanauAttentionOptions& options);
  BahdanauAttention(const BahdanauAttentionOptions& options, Generator& gen);

  // keys: (B, S, Dk), key_padding: (B, S) or undefined. Once per source sequence.
  Memory remember(const Variable& keys, const Tensor& key_padding = Tensor()) const;
  // query: (B, Dq)  ->  output (the context): (B, Dk), weights: (B, S)
  Attention forward(const Variable& query, const Memory& memory) const;
  std::string describe() const override;

  std::shared_ptr<Linear> w_q;  // Dq -> Hd, no bias
  std::shared_ptr<Linear> w_k;  // Dk -> Hd, with the score's bias
  std::shared_ptr<Linear> v;    // Hd -> 1, no bias

 private:
  void build(Generator& gen);
  BahdanauAttentionOptions options_;
};

}  // namespace heed::nn
