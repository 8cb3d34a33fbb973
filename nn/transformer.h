// The Transformer (Vaswani et al. 2017): encoder and decoder layers, their
// stacks, and the encoder-decoder model with embeddings, positions and an
// output projection. Sequences are (B, T, D) rows (PyTorch's batch_first).
//
// Encoder layer, src x: (B, S, D)
//   post-norm (norm_first = false, the paper):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
//   pre-norm  (norm_first = true):              x = x + SA(norm1(x));  x = x + FF(norm2(x))
// Decoder layer, tgt y: (B, T, D), memory m: (B, S, D) (the encoder's output)
//   post-norm:  y = norm1(y + SA(y));  y = norm2(y + CA(y, m));  y = norm3(y + FF(y))
//   pre-norm:   y = y + SA(norm1(y));  y = y + CA(norm2(y), m);  y = y + FF(norm3(y))
// SA is multi-head self-attention, CA cross-attention (queries from y, keys and
// values from m), FF(x) = linear2(dropout(act(linear1(x)))): D -> dim_feedforward -> D,
// and each sublayer's output passes a dropout (dropout1, 2, 3) before the sum.
//
// Parameter names follow PyTorch's nn.TransformerEncoderLayer and
// nn.TransformerDecoderLayer (self_attn, multihead_attn, linear1, linear2,
// norm1, norm2, norm3) and nn.TransformerEncoder/Decoder (layers.0, layers.1,
// ..., norm), so a PyTorch state_dict maps onto heed's by name, except that
// heed's attention keeps q_proj, k_proj and v_proj apart where PyTorch packs
// in_proj_weight (MultiHeadAttention::load_packed_in_proj splits it).
//
// Positions: sinusoidal and learned tables are added to the scaled embeddings;
// relative (Shaw) and rotary act inside the self-attentions of every layer.
// Cross-attention gets none: its keys are source positions, its queries target
// positions, and neither paper defines a distance between the two.
//
// Decisions:
//  - Embeddings start ~ N(0, 1/D) (not nn.Embedding's N(0, 1)) and are scaled by
//    sqrt(D), so the scaled rows have unit variance like the sinusoidal table,
//    and a tied output projection starts with weights of the size a Linear has.
//  - Tied weights: the output projection multiplies by tgt_embed->weight itself
//    (one Parameter, registered once under tgt_embed) and keeps only its own
//    bias, `output_bias`; untied, it is the Linear `output_proj`.
//  - The model's target self-attention is always causal: a decoder that sees
//    the target's future has nothing to learn.
//  - Decoding with caches (Seq2SeqTransformer::make_decoder) runs the encoder
//    once, projects the memory's cross-attention keys and values once per
//    layer, and each step feeds one symbol per hypothesis through the layers,
//    appending its self-attention keys and values to each layer's KVCache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/attention/multi_head.h"
#include "nn/attention/positions.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/generate.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace heed::nn {

enum class Activation { relu, gelu };

// One set of options for both layers, as PyTorch's two constructors take the same.
struct TransformerLayerOptions {
  int64_t d_model = 0;             // D
  int64_t nhead = 1;               // H, dividing D
  int64_t dim_feedforward = 2048;  // the feed-forward's inner width
  float dropout = 0.1f;            // on attention weights, the feed-forward's inner layer and each sublayer
  Activation activation = Activation::relu;
  float layer_norm_eps = 1e-5f;
  bool norm_first = false;  // pre-norm (true) or post-norm (false, the paper's)
  bool bias = true;  // in the linear layers and attention projections (heed's LayerNorm always has one)
  // Positions inside the self-attention (MultiHeadAttentionOptions' two).
  bool rotary = false;
  std::optional<int64_t> relative_positions = std::nullopt;
  std::optional<uint64_t> seed = std::nullopt;  // else the default generator
};
using TransformerEncoderLayerOptions = TransformerLayerOptions;
using TransformerDecoderLayerOptions = TransformerLayerOptions;

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& options);
  TransformerEncoderLayer(const TransformerEncoderLayerOptions& options, Generator& gen);

  // src: (B, S, D)  ->  (B, S, D); masks: src_key_padding (B, S) and/or an attn mask.
  Variable forward(const Variable& src, const AttentionMasks& masks = {});
  std::string describe() const override;
  const TransformerEncoderLayerOptions& options() const { return options_; }

  std::shared_ptr<MultiHeadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;  // null when options.dropout == 0

 private:
  void build(Generator& gen);
  TransformerEncoderLayerOptions options_;
};

// A decoder layer's state between decoding steps: its self-attention's keys
// and values so far, and the memory's cross-attention keys and values,
// (B, H, S, Dh), projected once.
struct TransformerDecoderLayerCache {
  KVCache self;
  Variable memory_k, memory_v;
};

class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerDecoderLayerOptions& options);
  TransformerDecoderLayer(const TransformerDecoderLayerOptions& options, Generator& gen);

  // tgt: (B, T, D)  memory: (B, S, D)  ->  (B, T, D)
  // tgt_masks hide target keys from target queries (causal, padding), memory_masks
  // memory keys (the source's padding). With a cache, tgt holds the new steps
  // only; the memory's keys and values are projected on the first call (when
  // cache->memory_k is undefined) and read from the cache after that.
  Variable forward(const Variable& tgt, const Variable& memory, const AttentionMasks& tgt_masks = {},
                   const AttentionMasks& memory_masks = {}, TransformerDecoderLayerCache* cache = nullptr);
  // memory (B, S, D) -> the cross-attention's keys and values into cache (B, H, S, Dh).
  void cache_memory(const Variable& memory, TransformerDecoderLayerCache& cache);
  std::string describe() const override;
  const TransformerDecoderLayerOptions& options() const { return options_; }

  std::shared_ptr<MultiHeadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;  // null when options.dropout == 0

 private:
  void build(Generator& gen);
  Variable cross_attend(const Variable& y, const Variable& memory, const AttentionMasks& memory_masks,
                        TransformerDecoderLayerCache* cache);
  TransformerDecoderLayerOptions options_;
};

struct TransformerEncoderOptions {
  TransformerEncoderLayerOptions layer;
  int64_t num_layers = 1;
  bool norm = false;  // a final LayerNorm `norm` after the last layer
};

// num_layers encoder layers, each with its own weights, then the optional norm.
class TransformerEncoder : public Module {
 public:
  explicit TransformerEncoder(const TransformerEncoderOptions& options);
  TransformerEncoder(const TransformerEncoderOptions& options, Generator& gen);
  // src: (B, S, D)  ->  (B, S, D)
  Variable forward(const Variable& src, const AttentionMasks& masks = {});
  std::string describe() const override;

  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers;  // registered as layers.0, layers.1, ...
  std::shared_ptr<LayerNorm> norm;                               // null unless options.norm

 private:
  void build(Generator& gen);
  TransformerEncoderOptions options_;
};

struct TransformerDecoderOptions {
  TransformerDecoderLayerOptions layer;
  int64_t num_layers = 1;
  bool norm = false;
};

class TransformerDecoder : public Module {
 public:
  explicit TransformerDecoder(const TransformerDecoderOptions& options);
  TransformerDecoder(const TransformerDecoderOptions& options, Generator& gen);
  // tgt: (B, T, D)  memory: (B, S, D)  ->  (B, T, D); caches: one per layer, or empty.
  Variable forward(const Variable& tgt, const Variable& memory, const AttentionMasks& tgt_masks = {},
                   const AttentionMasks& memory_masks = {},
                   std::vector<TransformerDecoderLayerCache>* caches = nullptr);
  std::string describe() const override;

  std::vector<std::shared_ptr<TransformerDecoderLayer>> layers;
  std::shared_ptr<LayerNorm> norm;

 private:
  void build(Generator& gen);
  TransformerDecoderOptions options_;
};

enum class Positions { sinusoidal, learned, relative, rotary, none };

struct Seq2SeqTransformerOptions {
  int64_t src_vocab = 0;  // source symbols
  int64_t tgt_vocab = 0;  // V: target symbols, the logits' width
  int64_t d_model = 512;
  int64_t nhead = 8;
  int64_t num_encoder_layers = 6;
  int64_t num_decoder_layers = 6;
  int64_t dim_feedforward = 2048;
  float dropout = 0.1f;
  Activation activation = Activation::relu;
  float layer_norm_eps = 1e-5f;
  bool norm_first = false;
  bool bias = true;
  bool final_norm = true;  // encoder.norm and decoder.norm, as PyTorch's nn.Transformer has
  Positions positions = Positions::sinusoidal;
  int64_t max_length = 512;            // rows of the sinusoidal or learned table
  int64_t max_relative_distance = 16;  // k of Positions::relative
  bool tie_weights = false;            // the output projection reuses tgt_embed's weight
  int64_t padding_idx = -1;            // the embeddings' padding row, or -1
  std::optional<uint64_t> seed = std::nullopt;
};

class Seq2SeqTransformer : public Module {
 public:
  explicit Seq2SeqTransformer(const Seq2SeqTransformerOptions& options);

  // source: (B, S) ids  target: (B, T) ids (the decoder's input: start symbol,
  // y_0, ..., y_{T-2})  ->  logits (B, T, V) for y_0 .. y_{T-1}. source_padding
  // (B, S), non-zero at padded source positions, hides them from every
  // attention; target_padding (B, T) likewise hides padded target keys.
  Variable forward(const Tensor& source, const Tensor& target, const Tensor& source_padding = {},
                   const Tensor& target_padding = {});
  // source: (B, S)  ->  memory (B, S, D), the encoder's output.
  Variable encode(const Tensor& source, const Tensor& source_padding = {});
  // target: (B, T)  memory: (B, S, D)  ->  logits (B, T, V). With caches (one
  // per decoder layer), target holds the new steps only, at positions
  // caches[0].self.length() on.
  Variable decode(const Tensor& target, const Variable& memory, const Tensor& source_padding = {},
                  const Tensor& target_padding = {},
                  std::vector<TransformerDecoderLayerCache>* caches = nullptr);
  // The incremental decoder greedy and beam search drive (nn/generate.h):
  // encodes source (B, S) once, without recording a graph; each step() runs
  // one symbol per hypothesis through the decoder and returns log-softmax
  // scores (N, V). The start symbol is embedded like any other, so it must be
  // a row of tgt_embed (e.g. tgt_vocab = symbols + 1, start = symbols). Call
  // eval() first (dropout would otherwise stay on); the model must outlive the Decoder.
  std::unique_ptr<Decoder> make_decoder(const Tensor& source, const Tensor& source_padding = {});

  std::string describe() const override;
  const Seq2SeqTransformerOptions& options() const { return options_; }

  std::shared_ptr<Embedding> src_embed, tgt_embed;
  std::shared_ptr<SinusoidalPositionalEncoding> sinusoidal;  // Positions::sinusoidal (shared by both sides)
  std::shared_ptr<LearnedPositionalEmbedding> src_pos, tgt_pos;  // Positions::learned
  std::shared_ptr<Dropout> dropout;                              // on the embedded inputs
  std::shared_ptr<TransformerEncoder> encoder;
  std::shared_ptr<TransformerDecoder> decoder;
  std::shared_ptr<Linear> output_proj;  // untied
  Variable output_bias;                 // tied: (V,), beside tgt_embed->weight

 private:
  // ids (B, T) at positions offset.. -> embed(ids) sqrt(D) + positions: (B, T, D)
  Variable embed(Embedding& table, LearnedPositionalEmbedding* learned, const Tensor& ids, int64_t offset);
  Seq2SeqTransformerOptions options_;
};

}  // namespace heed::nn
