// Embedding: a table of learned vectors, one row per token id.
//
//   ids: any shape of whole numbers in [0, num_embeddings)  ->  ids.shape + (embedding_dim,)
//
// The forward is a row lookup (index_select); its backward adds each output
// row's gradient into the row it came from, so a repeated id collects the sum.
// Initialized as PyTorch's nn.Embedding: every entry ~ N(0, 1), except the
// padding_idx row, which starts at zero and never receives a gradient, so a
// padding token stays the zero vector through training.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

struct EmbeddingOptions {
  int64_t num_embeddings = 0;  // rows: the vocabulary size
  int64_t embedding_dim = 0;   // the length of each vector
  int64_t padding_idx = -1;    // the row that stays zero; -1 for none
  // The initial weights' seed; without one (and without a Generator&) the
  // layer draws its seed from the default generator (heed::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
};

class Embedding : public UnaryModule {
 public:
  explicit Embedding(const EmbeddingOptions& options);
  Embedding(const EmbeddingOptions& options, Generator& gen);

  // ids: a Tensor of whole numbers (it converts to a constant Variable).
  Variable forward(const Variable& ids) override;
  std::string describe() const override;

  const EmbeddingOptions& options() const { return options_; }
  Variable weight;  // (num_embeddings, embedding_dim)

 private:
  void init_parameters(Generator& gen);
  EmbeddingOptions options_;
};

}  // namespace heed::nn
