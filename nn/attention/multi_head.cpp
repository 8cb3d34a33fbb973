#include "nn/attention/multi_head.h"

#include <algorithm>
#include <cmath>

#include "nn/attention/fused.h"
#include "nn/attention/rotary.h"
#include "tensor/threads.h"

namespace heed::detail {

Variable split_heads(const Variable& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  return transpose(view(x, {B, T, heads, D / heads}), 1, 2);
}

Variable merge_heads(const Variable& x) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), Dh = x.size(3);
  return reshape(transpose(x, 1, 2), {B, T, H * Dh});
}

// out = dropout(weights) v: (B, H, T, S)(B, H, S, Dh) -> (B, H, T, Dh), as one
// node that keeps the weights (which softmax keeps anyway, for its own
// backward) instead of their dropped copy: the mask is a hash of (seed,
// element) (tensor/random.h), so the backward drops them again. One (B, H, T, S)
// tensor less per attention held for the backward; the same numbers as
// matmul(dropout(weights), v):
//   d weights = dropout(grad vᵀ),  d v = dropout(weights)ᵀ grad
namespace {
Variable dropout_matmul(const Variable& weights, const Variable& v, float p, uint64_t seed) {
  Tensor out = matmul(dropout(weights.value(), p, seed), v.value());
  const bool need_w = weights.requires_grad(), need_v = v.requires_grad();
  return record("dropout_matmul", out, {weights, v},
                [p, seed, w = Saved(need_v ? weights.value() : Tensor(), "its input 0 (weights)"),
                 vv = Saved(need_w ? v.value() : Tensor(), "its input 1")](const Tensor& grad) {
                  Tensor dw, dv;
                  if (const Tensor& v = vv; v.defined())
                    dw = dropout(matmul(grad, transpose(v, -2, -1)), p, seed);
                  if (const Tensor& weights = w; weights.defined())
                    dv = matmul(transpose(dropout(weights, p, seed), -2, -1), grad);
                  return Grads{dw, dv};
                });
}

// Projections of one input by several Linears as one product, their weights
// stacked: (..., in)(in, out_1 + out_2 + ...), handed back as views of the one
// result. Each element is the dot product its own layer would compute, in the
// same order, so the values are those of separate calls; x is read once and
// the kernel works on a wider C (self-attention at B 32, T 256, D 128: the
// three projections 9.2 -> 8.3 ms on one thread). Stacking copies the weights.
struct Stacked {
  Variable weight, bias;
  std::vector<int64_t> widths;
};

Stacked stack(const std::vector<const nn::Linear*>& layers) {
  std::vector<Variable> weights, biases;
  Stacked s;
  for (const nn::Linear* layer : layers) {
    weights.push_back(layer->weight);
    if (layer->bias.defined()) biases.push_back(layer->bias);
    s.widths.push_back(layer->weight.size(0));
  }
  s.weight = cat(weights, 0);
  if (!biases.empty()) s.bias = cat(biases, 0);
  return s;
}

std::vector<Variable> project_stacked(const Variable& x, const Stacked& s) {
  const Variable y = nn::linear(x, s.weight, s.bias);
  std::vector<Variable> parts;
  int64_t at = 0;
  for (int64_t width : s.widths) {
    parts.push_back(narrow(y, -1, at, width));
    at += width;
  }
  return parts;
}

struct Heads {
  Variable q, k, v;  // (B, H, T, Dh), (B, H, S, Dh), (B, H, S, Dh)
};

// The layer's projections split into heads, turned by rotary, joined to the
// cache's. `stacked` holds q, k and v's weights (self-attention), k and v's
// (cross-attention), or nothing: separate products.
Heads project(const nn::MultiHeadAttention& m, const Variable& query, const Variable& key,
              const Variable& value, const Stacked& stacked, nn::KVCache* cache) {
  const int64_t H = m.options().num_heads, past = cache ? cache->length() : 0;
  Heads h;
  if (stacked.widths.size() == 3) {
    std::vector<Variable> qkv = project_stacked(query, stacked);
    h = {qkv[0], qkv[1], qkv[2]};
  } else if (stacked.widths.size() == 2) {
    std::vector<Variable> kv = project_stacked(key, stacked);
    h = {m.q_proj->forward(query), kv[0], kv[1]};
  } else {
    h = {m.q_proj->forward(query), m.k_proj->forward(key), m.v_proj->forward(value)};
  }
  h.q = split_heads(h.q, H);  // (B, H, T, Dh)
  h.k = split_heads(h.k, H);  // (B, H, S_new, Dh)
  h.v = split_heads(h.v, H);
  if (m.options().rotary) {
    h.q = nn::rotary(h.q, past);
    h.k = nn::rotary(h.k, past);
  }
  if (cache) {
    if (cache->k.defined()) {
      h.k = cat({cache->k, h.k}, 2);  // (B, H, past + S_new, Dh)
      h.v = cat({cache->v, h.v}, 2);
    }
    cache->k = h.k;
    cache->v = h.v;
  }
  return h;
}

// Sequences per chunk for inference (see infer_in_chunks): a chunk's
// projections, T D + 2 S D floats a sequence, in about 1 MiB (an L2). B (no
// chunks) when one chunk would hold them all, or on several threads, where
// each chunk's extra parallel regions cost more than the cache saves (2
// threads, B 32, D 128: T 256 15.6 -> 17.1 ms, T 32 1.09 -> 1.52 ms in chunks).
int64_t inference_chunk(int64_t B, int64_t T, int64_t S, int64_t D) {
  constexpr int64_t kChunkFloats = int64_t{1} << 18;
  if (num_threads() > 1) return B;
  return std::clamp<int64_t>(kChunkFloats / std::max<int64_t>((T + 2 * S) * D, 1), 1, B);
}

// Inference on many sequences, a few at a time: a chunk's q, k and v stay in
// cache from their product through the attention, where the whole batch's
// would go out to memory and back (B 32, T 256, D 128: 12.6 MB; that forward
// ran 5-7% faster in chunks of 2, medians 29.2 -> 27.7 and 30.1 -> 28.3 ms,
// the two forms alternating in one process). Each chunk's attention writes its
// slice of the whole batch's output and weights; out_proj runs once on all of
// it. Rows of a product and problems of the attention are computed the same
// way in any chunk, so the results are the bits of the one-pass forward.
nn::Attention infer_in_chunks(const nn::MultiHeadAttention& m, const Variable& query, const Variable& key,
                              const Variable& value, const Tensor& mask, const Stacked& stacked,
                              int64_t chunk) {
  const int64_t B = query.size(0), T = query.size(1), S = key.size(1), H = m.options().num_heads,
                Dh = m.options().embed_dim / H;
  // (B, H, T, Dh) over (B, T, H, Dh) memory, so that the heads merge for free.
  const AttentionResult all{transpose(empty({B, T, H, Dh}), 1, 2), empty({B, H, T, S})};
  const bool mask_per_sequence = mask.defined() && mask.dim() == 4 && mask.size(0) == B;
  for (int64_t b0 = 0; b0 < B; b0 += chunk) {
    const int64_t n = std::min(chunk, B - b0);
    auto rows = [&](const auto& x) { return narrow(x, 0, b0, n); };
    const Heads h = project(m, rows(query), rows(key), rows(value), stacked, nullptr);
    attention_into(h.q.value(), h.k.value(), h.v.value(), mask_per_sequence ? rows(mask) : mask,
                   1.0f / std::sqrt(float(Dh)), {rows(all.output), rows(all.weights)});
  }
  return {m.out_proj->forward(merge_heads(Variable(all.output))), Variable(all.weights)};
}
}  // namespace

Tensor combine_masks(const nn::AttentionMasks& masks, int64_t B, int64_t T, int64_t S, const char* layer) {
  Tensor hidden;
  auto hide = [&](const Tensor& m) { hidden = hidden.defined() ? add(hidden, ne(m, scalar(0.0f))) : m; };
  if (masks.key_padding.defined()) {
    HEED_CHECK(masks.key_padding.shape() == Shape({B, S}), layer, ": key_padding mask must be (B, S) = (", B,
               ", ", S, "), got ", masks.key_padding.shape());
    hide(view(masks.key_padding, {B, 1, 1, S}));
  }
  if (masks.attn.defined()) {
    const Shape scores{B, 1, T, S};  // any H: a mask has no head dim of its own, or 1
    HEED_CHECK(masks.attn.dim() <= 4 && broadcast_shapes(masks.attn.shape(), scores, layer) == scores, layer,
               ": attn mask of shape ", masks.attn.shape(), " does not broadcast to (B, 1, T, S) = ", scores);
    hide(masks.attn);
  }
  if (masks.causal) hide(nn::causal_mask(T, S));  // the queries are the last T of S positions
  return hidden;
}

}  // namespace heed::detail

namespace heed::nn {

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options)
    : Module("MultiHeadAttention"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

MultiHeadAttention::MultiHeadAttention(const MultiHeadAttentionOptions& options, Generator& gen)
    : Module("MultiHeadAttention"), options_(options) {
  build(gen);
}

void MultiHeadAttention::build(Generator& gen) {
  const int64_t D = options_.embed_dim, H = options_.num_heads;
  HEED_CHECK(D > 0 && H > 0 && D % H == 0, "MultiHeadAttention: embed_dim ", D, " must split into num_heads ",
             H, " equal heads (embed_dim % num_heads == 0)");
  if (options_.kdim == 0) options_.kdim = D;
  if (options_.vdim == 0) options_.vdim = D;
  HEED_CHECK(!options_.rotary || (D / H) % 2 == 0,
             "MultiHeadAttention: rotary needs an even head width, got ", D / H);
  HEED_CHECK(!options_.fused || !options_.relative_positions,
             "MultiHeadAttention: fused attention never makes the weights that relative_positions act on; ",
             "set fused = false to use them");
  const bool bias = options_.bias;
  q_proj = register_module(
      "q_proj",
      std::make_shared<Linear>(LinearOptions{.in_features = D, .out_features = D, .bias = bias}, gen));
  k_proj = register_module(
      "k_proj", std::make_shared<Linear>(
                    LinearOptions{.in_features = options_.kdim, .out_features = D, .bias = bias}, gen));
  v_proj = register_module(
      "v_proj", std::make_shared<Linear>(
                    LinearOptions{.in_features = options_.vdim, .out_features = D, .bias = bias}, gen));
  out_proj = register_module(
      "out_proj",
      std::make_shared<Linear>(LinearOptions{.in_features = D, .out_features = D, .bias = bias}, gen));
  if (options_.relative_positions)
    relative = register_module(
        "relative",
        std::make_shared<RelativePositions>(
            RelativePositionsOptions{.max_distance = *options_.relative_positions, .head_dim = D / H}, gen));
  if (options_.dropout > 0.0f)
    attn_dropout = register_module("attn_dropout",
                                   std::make_shared<Dropout>(DropoutOptions{.p = options_.dropout}, gen));
}

Attention MultiHeadAttention::forward(const Variable& query, const Variable& key, const Variable& value,
                                      const AttentionMasks& masks, KVCache* cache) {
  const int64_t D = options_.embed_dim, H = options_.num_heads, Dh = D / H;
  HEED_CHECK(query.dim() == 3 && query.size(2) == D, describe(), ": expected query (B, T, ", D, "), got ",
             query.shape());
  HEED_CHECK(key.dim() == 3 && key.size(0) == query.size(0) && key.size(2) == options_.kdim, describe(),
             ": expected key (", query.size(0), ", S, ", options_.kdim, "), got ", key.shape());
  HEED_CHECK(value.dim() == 3 && value.size(0) == key.size(0) && value.size(1) == key.size(1) &&
                 value.size(2) == options_.vdim,
             describe(), ": expected value (", key.size(0), ", ", key.size(1), ", ", options_.vdim, "), got ",
             value.shape());
  const int64_t B = query.size(0), T = query.size(1), past = cache ? cache->length() : 0;

  // Without a graph, projections of one input are one product: q, k and v in
  // self-attention, k and v in cross-attention. Not when recording: the graph
  // then keeps the whole (B, T, 3D) product, and its gradient, for as long as
  // the longest-kept of q, k and v needs them (measured on the Transformer
  // step: live peak 50.0 -> 53.0 MiB, RSS 60.6 -> 62.5 MiB).
  const bool recording = would_record({query, key, value, q_proj->weight, k_proj->weight, v_proj->weight});
  detail::Stacked stacked;
  if (!recording && key.impl() == value.impl() && options_.kdim == options_.vdim)
    stacked = query.impl() == key.impl() ? detail::stack({q_proj.get(), k_proj.get(), v_proj.get()})
                                         : detail::stack({k_proj.get(), v_proj.get()});
  const bool plain = !options_.fused && !relative && !(attn_dropout && attn_dropout->is_training());
  if (plain && !recording && !cache)
    if (const int64_t chunk = detail::inference_chunk(B, T, key.size(1), D); chunk < B)
      return detail::infer_in_chunks(*this, query, key, value,
                                     detail::combine_masks(masks, B, T, key.size(1), "MultiHeadAttention"),
                                     stacked, chunk);

  const detail::Heads heads = detail::project(*this, query, key, value, stacked, cache);
  Variable q = heads.q, k = heads.k, v = heads.v;
  const int64_t S = k.size(2);
  if (options_.fused) {
    HEED_CHECK(!masks.attn.defined(), describe(),
               ": fused attention takes key_padding and causal masks, not an ", "attn mask of shape ",
               masks.attn.defined() ? masks.attn.shape() : Shape{});
    // Dropout in the kernel, with the seed the plain path's dropout(weights) would draw.
    const bool dropping = attn_dropout && attn_dropout->is_training();
    Variable out = fused_attention(q, k, v,
                                   {.causal = masks.causal,
                                    .key_padding = masks.key_padding,
                                    .dropout = dropping ? options_.dropout : 0.0f,
                                    .seed = dropping ? attn_dropout->generator().next_u64() : 0});
    return {out_proj->forward(detail::merge_heads(out)), Variable()};  // (B, H, T, Dh) -> (B, T, D)
  }
  Tensor mask = detail::combine_masks(masks, B, T, S, "MultiHeadAttention");

  // Without relative positions or active dropout, each head is plain scaled
  // dot-product attention (one kernel when nothing records).
  if (plain) {
    Attention each = scaled_dot_product_attention(q, k, v, mask);
    return {out_proj->forward(detail::merge_heads(each.output)), each.weights};
  }
  // (B, H, T, Dh)(B, H, Dh, S) -> (B, H, T, S), plus q_i . a^K_ij with relative
  // positions, and the dropped weights times v (plus their a^V_ij terms).
  q = q * (1.0f / std::sqrt(float(Dh)));
  Variable scores = matmul(q, transpose(k, -2, -1));
  if (relative) scores = scores + relative->key_scores(q, S, past);
  Variable weights = masked_softmax(scores, mask, -1);
  const bool dropping = attn_dropout && attn_dropout->is_training() && options_.dropout > 0.0f;
  Variable out;  // (B, H, T, Dh)
  if (dropping && !relative) {
    out = detail::dropout_matmul(weights, v, options_.dropout, attn_dropout->generator().next_u64());
  } else {
    Variable dropped = attn_dropout ? attn_dropout->forward(weights) : weights;
    out = matmul(dropped, v);
    if (relative) out = out + relative->value_terms(dropped, past);
  }
  return {out_proj->forward(detail::merge_heads(out)), weights};
}

void MultiHeadAttention::load_packed_in_proj(const Tensor& in_proj_weight, const Tensor& in_proj_bias) {
  const int64_t D = options_.embed_dim;
  HEED_CHECK(
      options_.kdim == D && options_.vdim == D, describe(),
      ": a packed in_proj_weight needs kdim == vdim == embed_dim; load q_proj, k_proj and v_proj apart");
  HEED_CHECK(in_proj_weight.shape() == Shape({3 * D, D}), describe(), ": in_proj_weight must be (", 3 * D,
             ", ", D, "), got ", in_proj_weight.shape());
  HEED_CHECK(in_proj_bias.defined() == options_.bias &&
                 (!in_proj_bias.defined() || in_proj_bias.shape() == Shape({3 * D})),
             describe(), ": in_proj_bias must be (", 3 * D, ",) with bias, absent without");
  NoGradGuard no_grad;
  int64_t part = 0;
  for (Linear* proj : {q_proj.get(), k_proj.get(), v_proj.get()}) {
    copy_(proj->weight.value(), narrow(in_proj_weight, 0, part * D, D));
    if (options_.bias) copy_(proj->bias.value(), narrow(in_proj_bias, 0, part * D, D));
    ++part;
  }
}

std::string MultiHeadAttention::describe() const {
  std::string extra;
  if (options_.kdim != options_.embed_dim || options_.vdim != options_.embed_dim)
    extra += detail::concat(", kdim=", options_.kdim, ", vdim=", options_.vdim);
  if (options_.rotary) extra += ", rotary=true";
  if (options_.fused) extra += ", fused=true";
  if (options_.relative_positions)
    extra += detail::concat(", relative_positions=", *options_.relative_positions);
  return detail::concat("MultiHeadAttention(embed_dim=", options_.embed_dim,
                        ", num_heads=", options_.num_heads, ", dropout=", options_.dropout,
                        ", bias=", options_.bias ? "true" : "false", extra, ")");
}

}  // namespace heed::nn
