// Reference solutions to lesson 15's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>

#include "autograd/ops.h"
#include "lessons/15_transformer_translator/exercises.h"

namespace heed::lesson15 {

BatchMasks batch_masks(const std::vector<int64_t>& source_lengths, const std::vector<int64_t>& target_lengths,
                       int64_t S, int64_t T) {
  const int64_t B = int64_t(source_lengths.size());
  HEED_CHECK(int64_t(target_lengths.size()) == B, "batch_masks: ", B, " source lengths but ",
             target_lengths.size(), " target lengths");
  BatchMasks m{zeros({B, 1, S, S}), zeros({B, 1, T, T}), zeros({B, 1, T, S})};
  for (int64_t b = 0; b < B; ++b) {
    const int64_t ls = source_lengths[size_t(b)], lt = target_lengths[size_t(b)];
    HEED_CHECK(ls >= 1 && ls <= S && lt >= 1 && lt <= T, "batch_masks: sentence ", b, " has lengths ", ls,
               " and ", lt, ", outside 1..", S, " and 1..", T);
    for (int64_t q = 0; q < S; ++q)
      for (int64_t s = ls; s < S; ++s) m.encoder_self.at({b, 0, q, s}) = 1.0f;
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t u = 0; u < T; ++u)
        if (u > t || u >= lt) m.decoder_self.at({b, 0, t, u}) = 1.0f;
      for (int64_t s = ls; s < S; ++s) m.cross.at({b, 0, t, s}) = 1.0f;
    }
  }
  return m;
}

std::vector<std::vector<int64_t>> greedy_translate(nn::Seq2SeqTransformer& model, const Tensor& source,
                                                   const Tensor& source_padding, int64_t start, int64_t eos,
                                                   int64_t max_new_tokens,
                                                   std::vector<nn::TransformerDecoderLayerCache>& caches) {
  NoGradGuard no_grad;
  const int64_t B = source.size(0);
  const Variable memory = model.encode(source, source_padding);  // (B, S, D), once
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(B));
  std::vector<bool> done(size_t(B), false);
  std::vector<float> last(static_cast<size_t>(B), static_cast<float>(start));
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    const Tensor logits =
        model.decode(from_vector(last, {B, 1}), memory, source_padding, {}, &caches).value();
    // (B, 1, V) -> the log-probabilities nn::greedy_search ranks: (B, V)
    const Tensor next = argmax(log_softmax(reshape(logits, {B, logits.size(2)}), -1), -1);  // (B,)
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t symbol = int64_t(next.data()[b]);
      if (!done[size_t(b)]) {
        out[size_t(b)].push_back(symbol);
        done[size_t(b)] = symbol == eos;
      }
      all_done = all_done && done[size_t(b)];
      last[size_t(b)] = float(symbol);
    }
    if (all_done) break;
  }
  return out;
}

void reorder_caches(std::vector<nn::TransformerDecoderLayerCache>& caches, Tensor& source_padding,
                    const std::vector<int64_t>& rows) {
  HEED_CHECK(!caches.empty() && caches[0].memory_k.defined(),
             "reorder_caches: no cached decoding to reorder");
  const int64_t N = caches[0].memory_k.size(0);
  std::vector<float> ids;
  for (int64_t r : rows) {
    HEED_CHECK(r >= 0 && r < N, "reorder_caches: row ", r, " is not one of the ", N, " hypotheses");
    ids.push_back(float(r));
  }
  const Tensor index = from_vector(ids, {int64_t(rows.size())});
  auto pick = [&](Variable& v) {
    if (v.defined()) v = Variable(index_select(v.value(), 0, index));
  };
  for (nn::TransformerDecoderLayerCache& c : caches) {
    pick(c.self.k);
    pick(c.self.v);
    pick(c.memory_k);
    pick(c.memory_v);
  }
  if (source_padding.defined()) source_padding = index_select(source_padding, 0, index);
}

}  // namespace heed::lesson15
