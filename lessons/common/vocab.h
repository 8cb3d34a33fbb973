// Tokens to ids and back, and padded batches of id sequences.
//
// Ids are stored as floats in a Tensor (heed's Embedding and cross-entropy
// take float ids). Four ids are reserved in every vocabulary: pad 0, bos 1,
// eos 2, unk 3; words (or characters) follow in first-seen order.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace heed::course {

using Tokens = std::vector<std::string>;

// "the cat sleeps" -> {"the", "cat", "sleeps"} (split on spaces).
Tokens split_words(const std::string& text);
// "2021-03-04" -> {"2", "0", "2", "1", "-", ...} (one token per byte).
Tokens split_chars(const std::string& text);
// {"the", "cat"} -> "the cat"; `separator` "" for characters.
std::string join(const Tokens& tokens, const std::string& separator = " ");

class Vocab {
 public:
  static constexpr int64_t pad = 0, bos = 1, eos = 2, unk = 3;

  Vocab();  // only the four reserved tokens: <pad> <bos> <eos> <unk>
  // Every token of `sentences`, in first-seen order (deterministic).
  static Vocab build(const std::vector<Tokens>& sentences);

  int64_t add(const std::string& token);       // its id (new or existing)
  int64_t id(const std::string& token) const;  // unk when unknown
  const std::string& token(int64_t id) const;  // a heed::Error outside [0, size)
  int64_t size() const { return int64_t(tokens_.size()); }

  // Tokens -> ids, with bos first and/or eos last when asked.
  std::vector<int64_t> encode(const Tokens& tokens, bool add_bos = false, bool add_eos = false) const;
  // Ids -> tokens: skips pad and bos, stops at the first eos.
  Tokens decode(const std::vector<int64_t>& ids) const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

// Sequences of different lengths as one right-padded batch.
struct Batch {
  Tensor ids;                    // (B, T) float ids, T the longest length, pad = Vocab::pad
  Tensor padding;                // (B, T) 1 at padding, 0 at tokens (heed's mask convention)
  std::vector<int64_t> lengths;  // B true lengths
};
Batch make_batch(const std::vector<std::vector<int64_t>>& sequences);
// Row b of a (B, T) id tensor as ids, up to (not including) its first pad.
std::vector<int64_t> row_ids(const Tensor& ids, int64_t b);

}  // namespace heed::course
