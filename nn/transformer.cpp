#include "nn/transformer.h"

#include <cmath>

#include "autograd/ops.h"
#include "nn/attention/fused.h"
#include "nn/attention/scaled_dot_product.h"

namespace heed::nn {

namespace {

// PyTorch's nn.ModuleList: children named "0", "1", ..., so a stack's
// parameters read layers.0.self_attn.q_proj.weight.
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  template <class M>
  std::shared_ptr<M> append(std::shared_ptr<M> module) {
    return register_module(std::to_string(children().size()), std::move(module));
  }
};

void check_layer_options(const TransformerLayerOptions& o, const char* layer) {
  HEED_CHECK(o.d_model > 0 && o.nhead > 0 && o.d_model % o.nhead == 0, layer, ": d_model ", o.d_model,
             " must split into nhead ", o.nhead, " equal heads");
  HEED_CHECK(o.dim_feedforward > 0, layer, ": dim_feedforward must be positive, got ", o.dim_feedforward);
  HEED_CHECK(o.dropout >= 0.0f && o.dropout < 1.0f, layer, ": dropout must lie in [0, 1), got ", o.dropout);
  HEED_CHECK(!o.fused || !o.relative_positions, layer,
             ": fused attention cannot take relative_positions (they act on the weights it never makes)");
}

std::shared_ptr<Linear> make_linear(int64_t in, int64_t out, bool bias, Generator& gen) {
  return std::make_shared<Linear>(LinearOptions{.in_features = in, .out_features = out, .bias = bias}, gen);
}

std::shared_ptr<LayerNorm> make_norm(const TransformerLayerOptions& o) {
  return std::make_shared<LayerNorm>(
      LayerNormOptions{.normalized_shape = o.d_model, .eps = o.layer_norm_eps});
}

std::shared_ptr<Dropout> make_dropout(const TransformerLayerOptions& o, Generator& gen) {
  return o.dropout > 0.0f ? std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}, gen) : nullptr;
}

// Dropout when the layer has one (it is the identity in eval mode), written
// over x when x is a temporary (a sublayer's output, which nothing keeps).
Variable drop(const std::shared_ptr<Dropout>& d, Variable x) { return d ? d->forward(std::move(x)) : x; }

// x: (B, T, D) -> linear2(dropout(act(linear1(x)))): (B, T, D), each linear one
// matmul over the B*T rows.
// With relu the dropout goes first: dropout scales by 0 or 1/(1-p) >= 0, so
// relu(dropout(h)) is dropout(relu(h)) bit for bit, but then relu's output,
// which its backward keeps, is also linear2's input, which linear2 keeps: one
// (B, T, dim_feedforward) tensor held for the backward instead of two. Dropout
// and relu write over linear1's output, which nothing else keeps: the forward
// makes that one tensor only.
Variable feed_forward(const TransformerLayerOptions& o, Linear& linear1, Linear& linear2,
                      const std::shared_ptr<Dropout>& dropout, const Variable& x) {
  Variable h = linear1.forward(x);  // (B, T, dim_feedforward)
  h = o.activation == Activation::gelu ? drop(dropout, gelu(h)) : relu(drop(dropout, std::move(h)));
  return linear2.forward(h);
}

std::string layer_describe(const char* type, const TransformerLayerOptions& o) {
  std::string extra;
  if (o.rotary) extra += ", rotary=true";
  if (o.relative_positions) extra += detail::concat(", relative_positions=", *o.relative_positions);
  if (o.fused) extra += ", fused=true";
  return detail::concat(type, "(d_model=", o.d_model, ", nhead=", o.nhead,
                        ", dim_feedforward=", o.dim_feedforward, ", dropout=", o.dropout,
                        ", activation=", o.activation == Activation::gelu ? "gelu" : "relu",
                        ", norm_first=", o.norm_first ? "true" : "false", extra, ")");
}

MultiHeadAttentionOptions self_attention_options(const TransformerLayerOptions& o) {
  return {.embed_dim = o.d_model,
          .num_heads = o.nhead,
          .dropout = o.dropout,
          .bias = o.bias,
          .rotary = o.rotary,
          .relative_positions = o.relative_positions,
          .fused = o.fused};
}

}  // namespace

// ------------------------------------------------------------- encoder layer

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& options)
    : Module("TransformerEncoderLayer"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerEncoderLayerOptions& options,
                                                 Generator& gen)
    : Module("TransformerEncoderLayer"), options_(options) {
  build(gen);
}

// Registered in PyTorch's order, so named_parameters() lists them as it does.
void TransformerEncoderLayer::build(Generator& gen) {
  const auto& o = options_;
  check_layer_options(o, "TransformerEncoderLayer");
  self_attn =
      register_module("self_attn", std::make_shared<MultiHeadAttention>(self_attention_options(o), gen));
  linear1 = register_module("linear1", make_linear(o.d_model, o.dim_feedforward, o.bias, gen));
  if ((dropout = make_dropout(o, gen))) register_module("dropout", dropout);
  linear2 = register_module("linear2", make_linear(o.dim_feedforward, o.d_model, o.bias, gen));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  if ((dropout1 = make_dropout(o, gen))) register_module("dropout1", dropout1);
  if ((dropout2 = make_dropout(o, gen))) register_module("dropout2", dropout2);
}

Variable TransformerEncoderLayer::forward(const Variable& src, const AttentionMasks& masks) {
  HEED_CHECK(src.dim() == 3 && src.size(2) == options_.d_model, describe(), ": expected src (B, S, ",
             options_.d_model, "), got ", src.shape());
  Variable x = src;
  if (options_.norm_first) {
    Variable h = norm1->forward(x);
    x = x + drop(dropout1, self_attn->forward(h, masks).output);
    x = x + drop(dropout2, feed_forward(options_, *linear1, *linear2, dropout, norm2->forward(x)));
  } else {
    x = norm1->forward(x + drop(dropout1, self_attn->forward(x, masks).output));
    x = norm2->forward(x + drop(dropout2, feed_forward(options_, *linear1, *linear2, dropout, x)));
  }
  return x;
}

std::string TransformerEncoderLayer::describe() const {
  return layer_describe("TransformerEncoderLayer", options_);
}

// ------------------------------------------------------------- decoder layer

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerDecoderLayerOptions& options)
    : Module("TransformerDecoderLayer"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerDecoderLayerOptions& options,
                                                 Generator& gen)
    : Module("TransformerDecoderLayer"), options_(options) {
  build(gen);
}

void TransformerDecoderLayer::build(Generator& gen) {
  const auto& o = options_;
  check_layer_options(o, "TransformerDecoderLayer");
  self_attn =
      register_module("self_attn", std::make_shared<MultiHeadAttention>(self_attention_options(o), gen));
  multihead_attn = register_module(
      "multihead_attn", std::make_shared<MultiHeadAttention>(MultiHeadAttentionOptions{.embed_dim = o.d_model,
                                                                                       .num_heads = o.nhead,
                                                                                       .dropout = o.dropout,
                                                                                       .bias = o.bias,
                                                                                       .fused = o.fused},
                                                             gen));
  linear1 = register_module("linear1", make_linear(o.d_model, o.dim_feedforward, o.bias, gen));
  if ((dropout = make_dropout(o, gen))) register_module("dropout", dropout);
  linear2 = register_module("linear2", make_linear(o.dim_feedforward, o.d_model, o.bias, gen));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  norm3 = register_module("norm3", make_norm(o));
  if ((dropout1 = make_dropout(o, gen))) register_module("dropout1", dropout1);
  if ((dropout2 = make_dropout(o, gen))) register_module("dropout2", dropout2);
  if ((dropout3 = make_dropout(o, gen))) register_module("dropout3", dropout3);
}

void TransformerDecoderLayer::cache_memory(const Variable& memory, TransformerDecoderLayerCache& cache) {
  HEED_CHECK(memory.dim() == 3 && memory.size(2) == options_.d_model, describe(), ": expected memory (B, S, ",
             options_.d_model, "), got ", memory.shape());
  // (B, S, D) -> (B, H, S, Dh), views of one matmul each.
  cache.memory_k = detail::split_heads(multihead_attn->k_proj->forward(memory), options_.nhead);
  cache.memory_v = detail::split_heads(multihead_attn->v_proj->forward(memory), options_.nhead);
}

// y: (B, T, D) attends to the memory: (B, T, D). From a cache, only the
// queries are projected; the rest is MultiHeadAttention's path (plain or fused;
// cross-attention has no positions), so both give the same numbers.
Variable TransformerDecoderLayer::cross_attend(const Variable& y, const Variable& memory,
                                               const AttentionMasks& memory_masks,
                                               TransformerDecoderLayerCache* cache) {
  const bool dropping = multihead_attn->attn_dropout && multihead_attn->attn_dropout->is_training();
  if (!cache || dropping) return multihead_attn->forward(y, memory, memory, memory_masks).output;
  if (!cache->memory_k.defined()) cache_memory(memory, *cache);
  const int64_t B = y.size(0), T = y.size(1), S = cache->memory_k.size(2);
  HEED_CHECK(cache->memory_k.size(0) == B, describe(), ": the cached memory has ", cache->memory_k.size(0),
             " rows, the target ", B);
  Variable q = detail::split_heads(multihead_attn->q_proj->forward(y), options_.nhead);  // (B, H, T, Dh)
  if (options_.fused) {  // no dropout here: a training forward took the path above
    HEED_CHECK(!memory_masks.attn.defined(), describe(),
               ": fused attention takes key_padding and causal memory masks, not an attn mask");
    Variable out = fused_attention(q, cache->memory_k, cache->memory_v,
                                   {.causal = memory_masks.causal, .key_padding = memory_masks.key_padding});
    return multihead_attn->out_proj->forward(detail::merge_heads(out));
  }
  Tensor mask = detail::combine_masks(memory_masks, B, T, S, "TransformerDecoderLayer");
  Attention heads = scaled_dot_product_attention(q, cache->memory_k, cache->memory_v, mask);
  return multihead_attn->out_proj->forward(detail::merge_heads(heads.output));
}

Variable TransformerDecoderLayer::forward(const Variable& tgt, const Variable& memory,
                                          const AttentionMasks& tgt_masks, const AttentionMasks& memory_masks,
                                          TransformerDecoderLayerCache* cache) {
  const int64_t D = options_.d_model;
  HEED_CHECK(tgt.dim() == 3 && tgt.size(2) == D, describe(), ": expected tgt (B, T, ", D, "), got ",
             tgt.shape());
  HEED_CHECK((cache && cache->memory_k.defined()) ||
                 (memory.dim() == 3 && memory.size(0) == tgt.size(0) && memory.size(2) == D),
             describe(), ": expected memory (", tgt.size(0), ", S, ", D, "), got ",
             memory.defined() ? memory.shape() : Shape{});
  KVCache* self_cache = cache ? &cache->self : nullptr;
  Variable y = tgt;
  if (options_.norm_first) {
    y = y + drop(dropout1, self_attn->forward(norm1->forward(y), tgt_masks, self_cache).output);
    y = y + drop(dropout2, cross_attend(norm2->forward(y), memory, memory_masks, cache));
    y = y + drop(dropout3, feed_forward(options_, *linear1, *linear2, dropout, norm3->forward(y)));
  } else {
    y = norm1->forward(y + drop(dropout1, self_attn->forward(y, tgt_masks, self_cache).output));
    y = norm2->forward(y + drop(dropout2, cross_attend(y, memory, memory_masks, cache)));
    y = norm3->forward(y + drop(dropout3, feed_forward(options_, *linear1, *linear2, dropout, y)));
  }
  return y;
}

std::string TransformerDecoderLayer::describe() const {
  return layer_describe("TransformerDecoderLayer", options_);
}

// ------------------------------------------------------------- stacks

TransformerEncoder::TransformerEncoder(const TransformerEncoderOptions& options)
    : Module("TransformerEncoder"), options_(options) {
  Generator gen = generator_from(options.layer.seed);
  build(gen);
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderOptions& options, Generator& gen)
    : Module("TransformerEncoder"), options_(options) {
  build(gen);
}

void TransformerEncoder::build(Generator& gen) {
  HEED_CHECK(options_.num_layers >= 1, "TransformerEncoder: num_layers must be at least 1, got ",
             options_.num_layers);
  auto list = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < options_.num_layers; ++i)
    layers.push_back(list->append(std::make_shared<TransformerEncoderLayer>(options_.layer, gen)));
  if (options_.norm) norm = register_module("norm", make_norm(options_.layer));
}

Variable TransformerEncoder::forward(const Variable& src, const AttentionMasks& masks) {
  Variable x = src;
  for (auto& layer : layers) x = layer->forward(x, masks);
  return norm ? norm->forward(x) : x;
}

std::string TransformerEncoder::describe() const {
  return detail::concat("TransformerEncoder(num_layers=", options_.num_layers,
                        ", norm=", options_.norm ? "true" : "false", ")");
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderOptions& options)
    : Module("TransformerDecoder"), options_(options) {
  Generator gen = generator_from(options.layer.seed);
  build(gen);
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderOptions& options, Generator& gen)
    : Module("TransformerDecoder"), options_(options) {
  build(gen);
}

void TransformerDecoder::build(Generator& gen) {
  HEED_CHECK(options_.num_layers >= 1, "TransformerDecoder: num_layers must be at least 1, got ",
             options_.num_layers);
  auto list = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < options_.num_layers; ++i)
    layers.push_back(list->append(std::make_shared<TransformerDecoderLayer>(options_.layer, gen)));
  if (options_.norm) norm = register_module("norm", make_norm(options_.layer));
}

Variable TransformerDecoder::forward(const Variable& tgt, const Variable& memory,
                                     const AttentionMasks& tgt_masks, const AttentionMasks& memory_masks,
                                     std::vector<TransformerDecoderLayerCache>* caches) {
  if (caches && caches->empty()) caches->resize(layers.size());
  HEED_CHECK(!caches || caches->size() == layers.size(), describe(), ": expected ", layers.size(),
             " layer caches, got ", caches->size());
  Variable y = tgt;
  for (size_t i = 0; i < layers.size(); ++i)
    y = layers[i]->forward(y, memory, tgt_masks, memory_masks, caches ? &(*caches)[i] : nullptr);
  return norm ? norm->forward(y) : y;
}

std::string TransformerDecoder::describe() const {
  return detail::concat("TransformerDecoder(num_layers=", options_.num_layers,
                        ", norm=", options_.norm ? "true" : "false", ")");
}

// ------------------------------------------------------------- the model

Seq2SeqTransformer::Seq2SeqTransformer(const Seq2SeqTransformerOptions& options)
    : Module("Seq2SeqTransformer"), options_(options) {
  const auto& o = options_;
  HEED_CHECK(o.src_vocab > 0 && o.tgt_vocab > 0,
             "Seq2SeqTransformer: src_vocab and tgt_vocab must be positive, got ", o.src_vocab, " and ",
             o.tgt_vocab);
  HEED_CHECK(o.max_length > 0, "Seq2SeqTransformer: max_length must be positive, got ", o.max_length);
  HEED_CHECK(o.positions != Positions::sinusoidal || o.d_model % 2 == 0,
             "Seq2SeqTransformer: sinusoidal positions need an even d_model, got ", o.d_model);
  Generator gen = generator_from(o.seed);
  const int64_t D = o.d_model;
  auto table = [&](int64_t vocab) {
    auto e = std::make_shared<Embedding>(
        EmbeddingOptions{.num_embeddings = vocab, .embedding_dim = D, .padding_idx = o.padding_idx}, gen);
    NoGradGuard no_grad;
    mul_(e->weight.value(), 1.0f / std::sqrt(float(D)));  // N(0, 1) -> N(0, 1/D)
    return e;
  };
  src_embed = register_module("src_embed", table(o.src_vocab));
  tgt_embed = register_module("tgt_embed", table(o.tgt_vocab));
  if (o.positions == Positions::sinusoidal)
    sinusoidal = register_module(
        "sinusoidal", std::make_shared<SinusoidalPositionalEncoding>(
                          PositionalEncodingOptions{.embedding_dim = D, .max_length = o.max_length}));
  if (o.positions == Positions::learned) {
    LearnedPositionalEmbeddingOptions lo{.embedding_dim = D, .max_length = o.max_length};
    src_pos = register_module("src_pos", std::make_shared<LearnedPositionalEmbedding>(lo, gen));
    tgt_pos = register_module("tgt_pos", std::make_shared<LearnedPositionalEmbedding>(lo, gen));
  }
  if (o.dropout > 0.0f)
    dropout = register_module("dropout", std::make_shared<Dropout>(DropoutOptions{.p = o.dropout}, gen));
  TransformerLayerOptions layer{.d_model = D,
                                .nhead = o.nhead,
                                .dim_feedforward = o.dim_feedforward,
                                .dropout = o.dropout,
                                .activation = o.activation,
                                .layer_norm_eps = o.layer_norm_eps,
                                .norm_first = o.norm_first,
                                .bias = o.bias,
                                .rotary = o.positions == Positions::rotary,
                                .fused = o.fused};
  if (o.positions == Positions::relative) layer.relative_positions = o.max_relative_distance;
  encoder = register_module(
      "encoder",
      std::make_shared<TransformerEncoder>(
          TransformerEncoderOptions{.layer = layer, .num_layers = o.num_encoder_layers, .norm = o.final_norm},
          gen));
  decoder = register_module(
      "decoder",
      std::make_shared<TransformerDecoder>(
          TransformerDecoderOptions{.layer = layer, .num_layers = o.num_decoder_layers, .norm = o.final_norm},
          gen));
  if (o.tie_weights) {
    // The one weight stays registered under tgt_embed; only the bias is new.
    output_bias = register_parameter("output_bias", zeros({o.tgt_vocab}));
  } else {
    output_proj = register_module("output_proj", make_linear(D, o.tgt_vocab, true, gen));
  }
}

Variable Seq2SeqTransformer::embed(Embedding& table, LearnedPositionalEmbedding* learned, const Tensor& ids,
                                   int64_t offset) {
  HEED_CHECK(ids.dim() == 2, describe(), ": expected ids (B, T), got ", ids.shape());
  Variable x = table.forward(ids) * std::sqrt(float(options_.d_model));  // (B, T, D)
  if (sinusoidal) x = sinusoidal->forward(x, offset);
  if (learned) x = learned->forward(x, offset);
  return drop(dropout, x);
}

Variable Seq2SeqTransformer::encode(const Tensor& source, const Tensor& source_padding) {
  return encoder->forward(embed(*src_embed, src_pos.get(), source, 0), {.key_padding = source_padding});
}

Variable Seq2SeqTransformer::decode(const Tensor& target, const Variable& memory,
                                    const Tensor& source_padding, const Tensor& target_padding,
                                    std::vector<TransformerDecoderLayerCache>* caches) {
  const int64_t offset = caches && !caches->empty() ? (*caches)[0].self.length() : 0;
  Variable y = embed(*tgt_embed, tgt_pos.get(), target, offset);
  // Causal over the cached steps too: the new queries are the last T of S keys.
  y = decoder->forward(y, memory, {.key_padding = target_padding, .causal = true},
                       {.key_padding = source_padding}, caches);
  return output_proj ? output_proj->forward(y) : linear(y, tgt_embed->weight, output_bias);  // (B, T, V)
}

Variable Seq2SeqTransformer::forward(const Tensor& source, const Tensor& target, const Tensor& source_padding,
                                     const Tensor& target_padding) {
  HEED_CHECK(source.dim() == 2 && target.dim() == 2 && source.size(0) == target.size(0), describe(),
             ": expected source (B, S) and target (B, T) ids, got ", source.shape(), " and ", target.shape());
  return decode(target, encode(source, source_padding), source_padding, target_padding);
}

std::string Seq2SeqTransformer::describe() const {
  const char* positions[] = {"sinusoidal", "learned", "relative", "rotary", "none"};
  const auto& o = options_;
  return detail::concat("Seq2SeqTransformer(src_vocab=", o.src_vocab, ", tgt_vocab=", o.tgt_vocab,
                        ", d_model=", o.d_model, ", nhead=", o.nhead, ", layers=", o.num_encoder_layers, "+",
                        o.num_decoder_layers, ", positions=", positions[int(o.positions)],
                        ", tie_weights=", o.tie_weights ? "true" : "false", o.fused ? ", fused=true" : "",
                        ")");
}

// ------------------------------------------------------------- decoding

namespace {

// The state of N hypotheses: the source padding (N, S) and every decoder
// layer's caches, all row-aligned; step() adds one position to each.
class TransformerDecoding : public Decoder {
 public:
  TransformerDecoding(Seq2SeqTransformer& model, const Tensor& source, const Tensor& source_padding)
      : model_(model), padding_(source_padding) {
    NoGradGuard no_grad;
    Variable memory = model.encode(source, source_padding);
    caches_.resize(model.decoder->layers.size());
    for (size_t i = 0; i < caches_.size(); ++i) model.decoder->layers[i]->cache_memory(memory, caches_[i]);
  }

  // last: (N,) ids  ->  log-probabilities of the next symbol (N, V)
  Tensor step(const Tensor& last) override {
    NoGradGuard no_grad;
    const int64_t N = caches_[0].memory_k.size(0);
    HEED_CHECK(last.numel() == N, "Seq2SeqTransformer decoder: step expects one symbol for each of the ", N,
               " hypotheses, got ", last.shape());
    Variable logits = model_.decode(reshape(last, {N, 1}), Variable(), padding_, {}, &caches_);  // (N, 1, V)
    return log_softmax(reshape(logits.value(), {N, logits.size(2)}), -1);
  }

  void reorder(const std::vector<int64_t>& rows) override {
    const int64_t N = caches_[0].memory_k.size(0);
    std::vector<float> ids;
    for (int64_t r : rows) {
      HEED_CHECK(r >= 0 && r < N, "Seq2SeqTransformer decoder: reorder row ", r, " is not one of ", N,
                 " hypotheses");
      ids.push_back(float(r));
    }
    Tensor index = from_vector(ids, {int64_t(rows.size())});
    auto pick = [&](Variable& v) {
      if (v.defined()) v = Variable(index_select(v.value(), 0, index));
    };
    for (auto& c : caches_) {
      pick(c.self.k);
      pick(c.self.v);
      pick(c.memory_k);
      pick(c.memory_v);
    }
    if (padding_.defined()) padding_ = index_select(padding_, 0, index);
  }

 private:
  Seq2SeqTransformer& model_;
  Tensor padding_;  // (N, S) or undefined
  std::vector<TransformerDecoderLayerCache> caches_;
};

}  // namespace

std::unique_ptr<Decoder> Seq2SeqTransformer::make_decoder(const Tensor& source,
                                                          const Tensor& source_padding) {
  HEED_CHECK(source.dim() == 2, describe(), ": make_decoder expects source ids (B, S), got ", source.shape());
  return std::make_unique<TransformerDecoding>(*this, source, source_padding);
}

}  // namespace heed::nn
