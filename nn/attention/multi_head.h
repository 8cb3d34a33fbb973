// Multi-head attention (Vaswani et al. 2017): H attentions side by side, each
// on its own Dh = D / H slice of learned projections of the queries, keys and
// values, their outputs concatenated and projected back to D.
//
//   q = query Wq^T + bq: (B, T, D) -> view (B, T, H, Dh) -> transpose (B, H, T, Dh)
//   k, v likewise from key and value: (B, H, S, Dh)
//   weights = softmax(q k^T / sqrt(Dh)) with hidden keys removed: (B, H, T, S)
//   out = (weights v): (B, H, T, Dh) -> transpose (B, T, H, Dh) -> (B, T, D) Wo^T + bo
//
// The heads are split and merged by views (the transposes cost no copy until
// the merge). Self-attention is forward(x, x, x); cross-attention takes the
// keys and values from another sequence (an encoder's output). When nothing
// records, projections of one input run as one product of their stacked
// weights, (D, 3D) for q, k, v of self-attention and (D, 2D) for k, v of
// cross-attention (key and value the same Variable): the same values as
// separate products, with x read once. Inference on one thread over a batch
// whose projections outgrow ~1 MiB runs a few sequences at a time, so that
// each chunk's q, k and v stay in cache through the attention: the same bits.
//
// Parameters: q_proj, k_proj, v_proj, out_proj, each a Linear with .weight
// (out, in) and .bias. PyTorch's nn.MultiheadAttention packs the first three
// into in_proj_weight (3D, D) and in_proj_bias (3D,): rows [0, D) are
// q_proj's, [D, 2D) k_proj's and [2D, 3D) v_proj's. load_packed_in_proj()
// splits them, so a PyTorch model's weights load; out_proj maps by name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nn/attention/positions.h"
#include "nn/attention/scaled_dot_product.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace heed::nn {

struct MultiHeadAttentionOptions {
  int64_t embed_dim = 0;  // D, split into num_heads heads of Dh = D / H
  int64_t num_heads = 1;  // H
  float dropout = 0.0f;   // on the attention weights, in training
  bool bias = true;       // in all four projections
  int64_t kdim = 0;       // width of the key input when it is not D (0: D)
  int64_t vdim = 0;       // width of the value input when it is not D (0: D)
  bool rotary = false;    // turn each head's queries and keys by their position (RoPE)
  // Shaw et al.'s relative positions with distances clipped to +-k (k may be 0).
  std::optional<int64_t> relative_positions = std::nullopt;
  std::optional<uint64_t> seed = std::nullopt;  // else the default generator
  // The heads go through fused_attention (nn/attention/fused.h): memory O(T)
  // per head instead of O(T S), and forward returns undefined weights. Takes the
  // key_padding and causal masks, rotary, a KVCache and dropout (inside the
  // kernel, in training: one seed per forward from attn_dropout's generator, the
  // draw the plain path makes, so both drop the same weights); an attn mask is
  // an error at forward, relative_positions at construction, since it needs the
  // weights the fused kernel never makes.
  bool fused = false;
};

// What hides which key (non-zero hides). Each is optional; they combine.
struct AttentionMasks {
  Tensor key_padding = {};  // (B, S): key s of sequence b is padding
  Tensor attn = {};         // broadcast to (B, 1, T, S), e.g. (T, S)
  bool causal = false;      // query i sees keys <= its position only (queries are the last T of S)
};

// The keys and values of the steps decoded so far, per head, for incremental
// decoding: each forward appends its new keys and values, and its queries sit
// after them (positions for rotary, relative and causal masks count from there).
struct KVCache {
  Variable k, v;  // (B, H, S_past, Dh), undefined before the first step
  int64_t length() const { return k.defined() ? k.size(2) : 0; }
};

class MultiHeadAttention : public Module {
 public:
  explicit MultiHeadAttention(const MultiHeadAttentionOptions& options);
  MultiHeadAttention(const MultiHeadAttentionOptions& options, Generator& gen);

  // query: (B, T, D)  key: (B, S, kdim)  value: (B, S, vdim)
  //   ->  output: (B, T, D), weights: (B, H, T, S) per head (undefined when fused)
  // With a cache, key and value are the new steps only, and S counts the cache too.
  Attention forward(const Variable& query, const Variable& key, const Variable& value,
                    const AttentionMasks& masks = {}, KVCache* cache = nullptr);
  // Self-attention: forward(x, x, x, masks, cache).
  Attention forward(const Variable& x, const AttentionMasks& masks = {}, KVCache* cache = nullptr) {
    return forward(x, x, x, masks, cache);
  }

  // Copies PyTorch's packed in_proj_weight (3D, D) and in_proj_bias (3D,) into
  // q_proj, k_proj and v_proj.
  void load_packed_in_proj(const Tensor& in_proj_weight, const Tensor& in_proj_bias);

  std::string describe() const override;
  const MultiHeadAttentionOptions& options() const { return options_; }

  std::shared_ptr<Linear> q_proj, k_proj, v_proj, out_proj;
  std::shared_ptr<RelativePositions> relative;  // when options.relative_positions
  std::shared_ptr<Dropout> attn_dropout;        // when options.dropout > 0

 private:
  void build(Generator& gen);
  MultiHeadAttentionOptions options_;
};

}  // namespace heed::nn

// Shared with the other multi-head layers (FocusAttention).
namespace heed::detail {
// (B, T, H*Dh) -> (B, H, T, Dh), a view.
Variable split_heads(const Variable& x, int64_t heads);
// (B, H, T, Dh) -> (B, T, H*Dh), one copy.
Variable merge_heads(const Variable& x);
// The masks combined into one broadcastable to (B, H, T, S), or undefined.
Tensor combine_masks(const nn::AttentionMasks& masks, int64_t B, int64_t T, int64_t S, const char* layer);
}  // namespace heed::detail
