// Where a token sits, four ways (the legend of README: B batch, T length, D width).
//
//  - sinusoidal (Vaswani et al.): a fixed table added to the embeddings,
//      PE(p, 2i) = sin(p / 10000^(2i/D)),  PE(p, 2i+1) = cos(p / 10000^(2i/D));
//  - learned: a trained (max_length, D) table added the same way;
//  - relative (Shaw et al. 2018): inside attention, key j seen from query i
//    gets a learned vector for the distance j - i clipped to [-k, k], added to
//    the key in the score and to the value in the output (RelativePositions);
//  - rotary (Su et al.): queries and keys turned by their position inside
//    attention (nn/attention/rotary.h).
//
// The first two are layers on the input; the last two are options of
// MultiHeadAttention ({.relative_positions = k} and {.rotary = true}).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "autograd/ops.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

// (length, dim): the sinusoidal table, dim even.
Tensor sinusoidal_table(int64_t length, int64_t dim);

struct PositionalEncodingOptions {
  int64_t embedding_dim = 0;  // D
  int64_t max_length = 512;   // the longest sequence it will see
};

// x: (B, T, D)  ->  x + PE[:T], PE a buffer `pe` (saved with the model, never trained).
class SinusoidalPositionalEncoding : public UnaryModule {
 public:
  explicit SinusoidalPositionalEncoding(const PositionalEncodingOptions& options);
  // offset: the position of x's first row (decoding step by step).
  Variable forward(const Variable& x, int64_t offset);
  Variable forward(const Variable& x) override { return forward(x, 0); }
  std::string describe() const override;

  Tensor pe;  // (max_length, D)

 private:
  PositionalEncodingOptions options_;
};

struct LearnedPositionalEmbeddingOptions {
  int64_t embedding_dim = 0;  // D
  int64_t max_length = 512;
  std::optional<uint64_t> seed = std::nullopt;
};

// x: (B, T, D)  ->  x + W[:T], W a parameter `weight` (max_length, D) ~ N(0, 1)
// as PyTorch's nn.Embedding starts.
class LearnedPositionalEmbedding : public UnaryModule {
 public:
  explicit LearnedPositionalEmbedding(const LearnedPositionalEmbeddingOptions& options);
  LearnedPositionalEmbedding(const LearnedPositionalEmbeddingOptions& options, Generator& gen);
  Variable forward(const Variable& x, int64_t offset);
  Variable forward(const Variable& x) override { return forward(x, 0); }
  std::string describe() const override;

  Variable weight;  // (max_length, D)

 private:
  LearnedPositionalEmbeddingOptions options_;
};

struct RelativePositionsOptions {
  int64_t max_distance = 0;  // k: distances beyond +-k share the vector of +-k
  int64_t head_dim = 0;      // Dh
  std::optional<uint64_t> seed = std::nullopt;
};

// Shaw et al.'s 2k + 1 learned vectors for keys and 2k + 1 for values,
// shared by every head (as in the paper).
//   e_ij = q_i . (k_j + a^K_ij) / sqrt(Dh),   z_i = sum_j w_ij (v_j + a^V_ij),
//   a_ij = table[clip(j - i, -k, k) + k]
class RelativePositions : public Module {
 public:
  explicit RelativePositions(const RelativePositionsOptions& options);
  RelativePositions(const RelativePositionsOptions& options, Generator& gen);

  // q: (B, H, T, Dh)  ->  q_i . a^K_ij: (B, H, T, S), for queries at positions
  // offset .. offset + T - 1 and keys at 0 .. S - 1.
  Variable key_scores(const Variable& q, int64_t S, int64_t offset) const;
  // weights: (B, H, T, S)  ->  sum_j w_ij a^V_ij: (B, H, T, Dh).
  Variable value_terms(const Variable& weights, int64_t offset) const;
  std::string describe() const override;

  Variable keys;    // (2k + 1, Dh)
  Variable values;  // (2k + 1, Dh)

 private:
  void init_parameters(Generator& gen);
  // (T, S) ids of clip(j - i, -k, k) + k.
  Tensor distance_ids(int64_t T, int64_t S, int64_t offset) const;
  RelativePositionsOptions options_;
};

}  // namespace heed::nn
