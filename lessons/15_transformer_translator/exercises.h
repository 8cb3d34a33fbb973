// Lesson 15's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// What a Transformer translator needs beyond lesson 14's fixed-length tasks:
// masks for sentences of different lengths, and decoding one word at a time
// through the key/value caches, greedily and inside beam search. Graded
// against nn::MultiHeadAttention's own masks, nn::greedy_search and
// nn::beam_search on Seq2SeqTransformer's decoder.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/transformer.h"
#include "tensor/tensor.h"

namespace heed::lesson15 {

// Exercise 1: the masks of a padded batch, one per attention (section 2).
// A batch holds B sentence pairs right-padded to S source and T target
// positions; sentence b has source_lengths[b] source tokens and
// target_lengths[b] decoder-input tokens, the rest is padding. Each mask is
// 1 where a query must not see a key (heed's convention) and 0 elsewhere, in
// the shape MultiHeadAttention's AttentionMasks::attn broadcasts over the H heads:
//   encoder_self  (B, 1, S, S): source key s is padding (s >= source_lengths[b])
//   decoder_self  (B, 1, T, T): target key u is padding, or in the future of
//                               query t (u > t): the causal mask
//   cross         (B, 1, T, S): source key s is padding
// Queries at padded positions keep their rows as the rule gives them (their
// outputs are never read; no row may hide every key, or its softmax is 0/0).
// Lengths lie in 1..S and 1..T.
struct BatchMasks {
  Tensor encoder_self, decoder_self, cross;
};
BatchMasks batch_masks(const std::vector<int64_t>& source_lengths, const std::vector<int64_t>& target_lengths,
                       int64_t S, int64_t T);

// Exercise 2: greedy decoding through the key/value caches (section 5).
// source: (B, S) ids, source_padding: (B, S) 1 at padding (or undefined).
// Encode once (model.encode, without recording: NoGradGuard). Then step: feed
// each row's last symbol, (B, 1) ids (`start` at the first step), through
// model.decode(ids, memory, source_padding, {}, &caches): the decoder embeds it
// at position caches[0].self.length(), appends its keys and values to every
// layer's cache, and returns logits (B, 1, V) for the next symbol. Each row
// takes its symbol of highest log-probability (log_softmax of the logits, as
// nn::greedy_search ranks them; the first one on a tie). A row is done
// once it emitted `eos` (kept as its last symbol); stop when every row is done
// or after max_new_tokens steps. Rows that are done may keep stepping; what
// they produce is not theirs.
// Returns per source its symbols without `start`: nn::greedy_search's tokens.
// On return `caches` (empty on entry) holds one cache per decoder layer, each
// with the keys and values of every step fed: caches[l].self.length() steps.
std::vector<std::vector<int64_t>> greedy_translate(nn::Seq2SeqTransformer& model, const Tensor& source,
                                                   const Tensor& source_padding, int64_t start, int64_t eos,
                                                   int64_t max_new_tokens,
                                                   std::vector<nn::TransformerDecoderLayerCache>& caches);

// Exercise 3: beam search's bookkeeping on the caches (section 5).
// The caches and the source padding hold one row per hypothesis (N rows):
// each layer's self-attention keys and values self.k, self.v (N, H, t, Dh) and
// the memory's cross-attention keys and values memory_k, memory_v (N, H, S, Dh);
// source_padding (N, S), or undefined when nothing is padded. After a beam
// step, the surviving hypotheses are rows[0], rows[1], ... of the old ones (a
// row may appear twice: two extensions of one hypothesis; or not at all).
// Replace every one of them (all layers) by its rows in that order, N' =
// rows.size(), so that the next model.decode() continues each survivor's own
// history. A row outside [0, N) is a heed::Error naming it.
void reorder_caches(std::vector<nn::TransformerDecoderLayerCache>& caches, Tensor& source_padding,
                    const std::vector<int64_t>& rows);

}  // namespace heed::lesson15
