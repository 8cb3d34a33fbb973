#include "nn/attention/positions.h"

#include <algorithm>
#include <cmath>

namespace heed::nn {

Tensor sinusoidal_table(int64_t length, int64_t dim) {
  HEED_CHECK(length >= 0 && dim > 0 && dim % 2 == 0,
             "sinusoidal_table: needs a length >= 0 and an even dim > 0, got ", length, " and ", dim);
  Tensor pe = empty({length, dim});
  for (int64_t p = 0; p < length; ++p)
    for (int64_t i = 0; i < dim / 2; ++i) {
      double angle = double(p) / std::pow(10000.0, 2.0 * double(i) / double(dim));
      pe.data()[p * dim + 2 * i] = float(std::sin(angle));
      pe.data()[p * dim + 2 * i + 1] = float(std::cos(angle));
    }
  return pe;
}

namespace {
// x: (B, T, D) must fit in a table of max_length rows from `offset` on.
void check_positions(const char* layer, const Variable& x, int64_t D, int64_t offset, int64_t max_length) {
  HEED_CHECK(x.dim() == 3 && x.size(2) == D, layer, ": expected x (B, T, ", D, "), got ", x.shape());
  HEED_CHECK(offset >= 0 && offset + x.size(1) <= max_length, layer, ": positions ", offset, " .. ",
             offset + x.size(1) - 1, " do not fit its max_length of ", max_length,
             "; build it with a larger .max_length");
}
}  // namespace

// ------------------------------------------------------------- sinusoidal
SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(const PositionalEncodingOptions& options)
    : UnaryModule("SinusoidalPositionalEncoding"), options_(options) {
  pe = register_buffer("pe", sinusoidal_table(options.max_length, options.embedding_dim));
}

Variable SinusoidalPositionalEncoding::forward(const Variable& x, int64_t offset) {
  check_positions("SinusoidalPositionalEncoding", x, options_.embedding_dim, offset, options_.max_length);
  return x + narrow(pe, 0, offset, x.size(1));  // (B, T, D) + (T, D)
}

std::string SinusoidalPositionalEncoding::describe() const {
  return detail::concat("SinusoidalPositionalEncoding(embedding_dim=", options_.embedding_dim,
                        ", max_length=", options_.max_length, ")");
}

// ------------------------------------------------------------- learned
LearnedPositionalEmbedding::LearnedPositionalEmbedding(const LearnedPositionalEmbeddingOptions& options)
    : UnaryModule("LearnedPositionalEmbedding"), options_(options) {
  Generator gen = generator_from(options.seed);
  weight = register_parameter("weight", randn({options.max_length, options.embedding_dim}, gen));
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(const LearnedPositionalEmbeddingOptions& options,
                                                       Generator& gen)
    : UnaryModule("LearnedPositionalEmbedding"), options_(options) {
  weight = register_parameter("weight", randn({options.max_length, options.embedding_dim}, gen));
}

Variable LearnedPositionalEmbedding::forward(const Variable& x, int64_t offset) {
  check_positions("LearnedPositionalEmbedding", x, options_.embedding_dim, offset, options_.max_length);
  return x + narrow(weight, 0, offset, x.size(1));
}

std::string LearnedPositionalEmbedding::describe() const {
  return detail::concat("LearnedPositionalEmbedding(embedding_dim=", options_.embedding_dim,
                        ", max_length=", options_.max_length, ")");
}

// ------------------------------------------------------------- relative
RelativePositions::RelativePositions(const RelativePositionsOptions& options)
    : Module("RelativePositions"), options_(options) {
  Generator gen = generator_from(options.seed);
  init_parameters(gen);
}

RelativePositions::RelativePositions(const RelativePositionsOptions& options, Generator& gen)
    : Module("RelativePositions"), options_(options) {
  init_parameters(gen);
}

// Xavier-uniform, as the reference implementation of the paper starts them.
void RelativePositions::init_parameters(Generator& gen) {
  const int64_t k = options_.max_distance, d = options_.head_dim;
  HEED_CHECK(k >= 0 && d > 0, "RelativePositions: needs max_distance >= 0 and head_dim > 0, got ", k, " and ",
             d);
  const float bound = std::sqrt(6.0f / float(2 * k + 1 + d));
  keys = register_parameter("keys", uniform({2 * k + 1, d}, -bound, bound, gen));
  values = register_parameter("values", uniform({2 * k + 1, d}, -bound, bound, gen));
}

Tensor RelativePositions::distance_ids(int64_t T, int64_t S, int64_t offset) const {
  const int64_t k = options_.max_distance;
  Tensor ids = empty({T, S});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < S; ++j) ids.data()[i * S + j] = float(std::clamp(j - (offset + i), -k, k) + k);
  return ids;
}

// Per query position t the product is (B*H, Dh)(Dh, S), so t becomes the
// batch dim of one batched matmul: q (B, H, T, Dh) -> (T, B*H, Dh), times
// a^K transposed (T, Dh, S) -> (T, B*H, S) -> back to (B, H, T, S).
Variable RelativePositions::key_scores(const Variable& q, int64_t S, int64_t offset) const {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Dh = q.size(3);
  Variable a = embedding(keys, distance_ids(T, S, offset));  // (T, S, Dh)
  Variable q_t = reshape(permute(q, {2, 0, 1, 3}), {T, B * H, Dh});
  Variable s = matmul(q_t, transpose(a, 1, 2));  // (T, B*H, S)
  return permute(reshape(s, {T, B, H, S}), {1, 2, 0, 3});
}

// weights (B, H, T, S) -> (T, B*H, S), times a^V (T, S, Dh) -> (T, B*H, Dh) -> (B, H, T, Dh).
Variable RelativePositions::value_terms(const Variable& weights, int64_t offset) const {
  const int64_t B = weights.size(0), H = weights.size(1), T = weights.size(2), S = weights.size(3);
  Variable a = embedding(values, distance_ids(T, S, offset));  // (T, S, Dh)
  Variable w_t = reshape(permute(weights, {2, 0, 1, 3}), {T, B * H, S});
  Variable z = matmul(w_t, a);  // (T, B*H, Dh)
  return permute(reshape(z, {T, B, H, options_.head_dim}), {1, 2, 0, 3});
}

std::string RelativePositions::describe() const {
  return detail::concat("RelativePositions(max_distance=", options_.max_distance,
                        ", head_dim=", options_.head_dim, ")");
}

}  // namespace heed::nn
