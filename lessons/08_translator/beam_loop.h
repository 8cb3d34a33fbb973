// The loop of beam search around exercise 2's beam_step (given, not an
// exercise): the same bookkeeping as nn::beam_search (nn/generate.h), so with
// a correct beam_step the two find the same hypotheses, scores and all.
//
// Per step: one decoder.step for every running hypothesis of every source
// still searching (N rows, source-major), one beam_step per source on its
// rows, its finished hypotheses kept (the best num_return_sequences by score),
// and one decoder.reorder to the survivors' parent rows. A source stops when
// nothing runs, at max_new_tokens (its runners finish without eos), or when
// its best runner, of log_prob s and length l, can no longer beat its
// num_return_sequences-th finished score: log-probs are <= 0, so the best it
// can reach is max(s / (l + 1)^alpha, s / max_new_tokens^alpha).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "lessons/08_translator/exercises.h"
#include "nn/generate.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace heed::lesson08 {

inline std::vector<std::vector<nn::Hypothesis>> beam_search_with_your_step(nn::Decoder& decoder,
                                                                           int64_t batch,
                                                                           const nn::BeamSearchOptions& o) {
  const int64_t K = o.num_beams, R = o.num_return_sequences;
  const double alpha = o.length_penalty;
  HEED_CHECK(K >= 1 && R >= 1 && R <= K && o.max_new_tokens >= 1,
             "beam_search_with_your_step: needs num_beams >= 1, 1 <= num_return_sequences <= num_beams and "
             "max_new_tokens >= 1");
  auto penalized = [&](double log_prob, int64_t length) {
    return alpha == 0 ? log_prob : log_prob / std::pow(double(length), alpha);
  };
  // Best first; a later hypothesis of equal score goes after the earlier.
  auto keep = [&](std::vector<nn::Hypothesis>& finished, nn::Hypothesis h) {
    auto at = std::upper_bound(finished.begin(), finished.end(), h.score,
                               [](double s, const nn::Hypothesis& f) { return s > f.score; });
    if (at - finished.begin() >= R) return;
    finished.insert(at, std::move(h));
    if (int64_t(finished.size()) > R) finished.pop_back();
  };

  std::vector<std::vector<Beam>> beams(batch, std::vector<Beam>(1));
  std::vector<std::vector<nn::Hypothesis>> finished(batch);
  std::vector<int64_t> active(batch);
  std::iota(active.begin(), active.end(), 0);
  for (int64_t t = 0; t < o.max_new_tokens && !active.empty(); ++t) {
    std::vector<float> last;
    for (int64_t b : active)
      for (const Beam& h : beams[b])
        last.push_back(float(h.tokens.empty() ? o.decoder_start_token_id : h.tokens.back()));
    const Tensor lp = contiguous(decoder.step(from_vector(last, {int64_t(last.size())})));  // (N, V)
    const int64_t length = t + 1;
    std::vector<int64_t> parents, still_active;
    int64_t row0 = 0;
    for (int64_t b : active) {
      const int64_t n = int64_t(beams[b].size());
      BeamStep s = beam_step(beams[b], narrow(lp, 0, row0, n), K, o.eos_token_id, alpha);
      HEED_CHECK(s.finished.size() == s.scores.size() && s.running.size() == s.parents.size() &&
                     int64_t(s.running.size()) <= K,
                 "beam_step: gave ", s.running.size(), " running (parents ", s.parents.size(), ") and ",
                 s.finished.size(), " finished (scores ", s.scores.size(), ") for K = ", K);
      for (size_t i = 0; i < s.finished.size(); ++i)
        keep(finished[b], {std::move(s.finished[i].tokens), s.finished[i].log_prob, s.scores[i]});
      bool done = s.running.empty();
      if (length == o.max_new_tokens) {
        for (Beam& h : s.running)
          keep(finished[b], {std::move(h.tokens), h.log_prob, penalized(h.log_prob, length)});
        done = true;
      } else if (!done && int64_t(finished[b].size()) >= R) {
        const double best = s.running[0].log_prob;
        const double bound = std::max(penalized(best, length + 1), penalized(best, o.max_new_tokens));
        done = bound <= finished[b][R - 1].score;
      }
      if (!done) {
        for (int64_t p : s.parents) parents.push_back(row0 + p);
        beams[b] = std::move(s.running);
        still_active.push_back(b);
      }
      row0 += n;
    }
    active = std::move(still_active);
    if (active.empty()) break;
    bool identity = int64_t(parents.size()) == lp.size(0);
    for (int64_t i = 0; identity && i < int64_t(parents.size()); ++i) identity = parents[i] == i;
    if (!identity) decoder.reorder(parents);
  }
  return finished;
}

}  // namespace heed::lesson08
