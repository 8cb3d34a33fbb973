#include "nn/embedding.h"

#include "autograd/ops.h"

namespace heed::nn {

Embedding::Embedding(const EmbeddingOptions& options) : UnaryModule("Embedding"), options_(options) {
  Generator gen = generator_from(options.seed);
  init_parameters(gen);
}

Embedding::Embedding(const EmbeddingOptions& options, Generator& gen)
    : UnaryModule("Embedding"), options_(options) {
  init_parameters(gen);
}

void Embedding::init_parameters(Generator& gen) {
  HEED_CHECK(options_.num_embeddings > 0 && options_.embedding_dim > 0,
             "Embedding: num_embeddings and embedding_dim must be positive, got num_embeddings=",
             options_.num_embeddings, ", embedding_dim=", options_.embedding_dim);
  HEED_CHECK(options_.padding_idx >= -1 && options_.padding_idx < options_.num_embeddings,
             "Embedding: padding_idx ", options_.padding_idx, " is not a row of ", options_.num_embeddings,
             " (use -1 for none)");
  Tensor table = randn({options_.num_embeddings, options_.embedding_dim}, gen);
  if (options_.padding_idx >= 0) fill_(select(table, 0, options_.padding_idx), 0.0f);
  weight = register_parameter("weight", table);
}

Variable Embedding::forward(const Variable& ids) {
  // autograd's embedding checks every id against the table's rows.
  return embedding(weight, ids.value(), options_.padding_idx);
}

std::string Embedding::describe() const {
  std::string pad = options_.padding_idx >= 0 ? detail::concat(", padding_idx=", options_.padding_idx) : "";
  return detail::concat("Embedding(num_embeddings=", options_.num_embeddings,
                        ", embedding_dim=", options_.embedding_dim, pad, ")");
}

}  // namespace heed::nn
