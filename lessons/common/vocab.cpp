#include "lessons/common/vocab.h"

#include <algorithm>

#include "tensor/error.h"

namespace heed::course {

Tokens split_words(const std::string& text) {
  Tokens words;
  std::string word;
  for (char c : text) {
    if (c == ' ') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

Tokens split_chars(const std::string& text) {
  Tokens chars;
  chars.reserve(text.size());
  for (char c : text) chars.emplace_back(1, c);
  return chars;
}

std::string join(const Tokens& tokens, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) text += separator;
    text += tokens[i];
  }
  return text;
}

Vocab::Vocab() {
  for (const char* reserved : {"<pad>", "<bos>", "<eos>", "<unk>"}) add(reserved);
}

Vocab Vocab::build(const std::vector<Tokens>& sentences) {
  Vocab vocab;
  for (const Tokens& sentence : sentences)
    for (const std::string& token : sentence) vocab.add(token);
  return vocab;
}

int64_t Vocab::add(const std::string& token) {
  auto [it, inserted] = ids_.try_emplace(token, size());
  if (inserted) tokens_.push_back(token);
  return it->second;
}

int64_t Vocab::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? unk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  HEED_CHECK(id >= 0 && id < size(), "Vocab::token: id ", id, " is outside [0, ", size(), ")");
  return tokens_[size_t(id)];
}

std::vector<int64_t> Vocab::encode(const Tokens& tokens, bool add_bos, bool add_eos) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size() + 2);
  if (add_bos) ids.push_back(bos);
  for (const std::string& token : tokens) ids.push_back(id(token));
  if (add_eos) ids.push_back(eos);
  return ids;
}

Tokens Vocab::decode(const std::vector<int64_t>& ids) const {
  Tokens tokens;
  for (int64_t i : ids) {
    if (i == eos) break;
    if (i == pad || i == bos) continue;
    tokens.push_back(token(i));
  }
  return tokens;
}

Batch make_batch(const std::vector<std::vector<int64_t>>& sequences) {
  HEED_CHECK(!sequences.empty(), "make_batch: no sequences");
  const int64_t B = int64_t(sequences.size());
  int64_t T = 0;
  for (const auto& s : sequences) T = std::max(T, int64_t(s.size()));
  Batch batch{zeros({B, T}), ones({B, T}), {}};  // zeros are Vocab::pad
  float* ids = batch.ids.data();
  float* padding = batch.padding.data();
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = sequences[size_t(b)];
    for (size_t t = 0; t < s.size(); ++t) {
      ids[b * T + int64_t(t)] = float(s[t]);
      padding[b * T + int64_t(t)] = 0.0f;
    }
    batch.lengths.push_back(int64_t(s.size()));
  }
  return batch;
}

std::vector<int64_t> row_ids(const Tensor& ids, int64_t b) {
  HEED_CHECK(ids.dim() == 2, "row_ids: ids must be (B, T), got ", ids.shape());
  HEED_CHECK(b >= 0 && b < ids.size(0), "row_ids: row ", b, " is outside [0, ", ids.size(0), ") of ",
             ids.shape());
  std::vector<int64_t> row;
  for (int64_t t = 0; t < ids.size(1); ++t) {
    const auto id = int64_t(ids.at({b, t}));
    if (id == Vocab::pad) break;
    row.push_back(id);
  }
  return row;
}

}  // namespace heed::course
