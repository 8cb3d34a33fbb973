// Lesson 14's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// The two layers a Transformer stacks, rebuilt from their sublayers, and the
// loss it is trained with: graded against nn::TransformerEncoderLayer,
// nn::TransformerDecoderLayer and nn::CrossEntropyLoss given the same weights
// and inputs.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "nn/transformer.h"
#include "tensor/tensor.h"

namespace heed::lesson14 {

// Exercise 1: an encoder layer's forward, from its sublayers (section 2).
//   src: (B, S, D), masks: what the self-attention hides (a key padding (B, S))
//   ->  (B, S, D), the value layer.forward(src, masks) gives.
// Use the layer's own modules: layer.self_attn (a MultiHeadAttention: its
// forward(x, masks).output is the self-attention), layer.linear1 and
// layer.linear2 (the feed-forward, D -> dim_feedforward -> D, with
// layer.options().activation between them: relu or gelu), layer.norm1 and
// layer.norm2. Both arrangements, by layer.options().norm_first:
//   post-norm (false):  x = norm1(x + SA(x));     x = norm2(x + FF(x))
//   pre-norm  (true):   x = x + SA(norm1(x));     x = x + FF(norm2(x))
// Dropout is left out: it is graded in eval mode (or with dropout 0), where it
// is the identity. Written with Variables, the gradient comes for free; it is
// graded too (d sum(out * w) / d src).
Variable encoder_layer_forward(nn::TransformerEncoderLayer& layer, const Variable& src,
                               const nn::AttentionMasks& masks = {});

// Exercise 2: a decoder layer's forward, from its sublayers (section 3).
//   tgt: (B, T, D) the embedded decoder input, memory: (B, S, D) the encoder's
//   output, memory_padding: (B, S), 1 at padded source positions (or undefined)
//   ->  (B, T, D), the value of layer.forward(tgt, memory, {.causal = true},
//       {.key_padding = memory_padding}).
// Three sublayers, each with its residual and its LayerNorm:
//   SA: layer.self_attn over tgt, causal: position t sees positions <= t only
//       (AttentionMasks{.causal = true}, or an attn mask you make: 1 above the diagonal)
//   CA: layer.multihead_attn, queries from the target, keys and values from
//       memory (forward(query, key, value, masks)), padded source keys hidden
//   FF: linear1, the activation, linear2, as in exercise 1
//   post-norm:  y = norm1(y + SA(y));  y = norm2(y + CA(y, m));  y = norm3(y + FF(y))
//   pre-norm:   y = y + SA(norm1(y));  y = y + CA(norm2(y), m);  y = y + FF(norm3(y))
// (pre-norm normalizes only the query side of CA: the memory comes normalized
// from the encoder). No dropout, as in exercise 1.
Variable decoder_layer_forward(nn::TransformerDecoderLayer& layer, const Variable& tgt,
                               const Variable& memory, const Tensor& memory_padding = {});

// Exercise 3: label-smoothed cross-entropy, recorded as
// "label_smoothed_cross_entropy" (one heed::record, as in lessons 02 and 04;
// section 4).
//   logits: (N, C)  target: (N,) class ids as floats  ->  loss: ()
// Row n's target distribution is q_n = (1 - e) onehot(target_n) + e / C, and
// its loss -sum_c q_nc log softmax(logits_n)_c, which is
//   (1 - e) (-log p_n[target_n]) + e * mean_c (-log p_nc).
// Rows whose target equals ignore_index count for nothing: the loss is the
// mean over the other rows (0, not NaN, when every row is ignored), and
// ignored rows get zero gradient. The backward, for the scalar upstream g and
// n_counted counted rows:
//   d loss / d logits_n = g (softmax(logits_n) - q_n) / n_counted
// Stable for logits of 1000 (subtract each row's max).
Variable label_smoothed_cross_entropy(const Variable& logits, const Tensor& target, float smoothing,
                                      int64_t ignore_index = -100);

}  // namespace heed::lesson14
