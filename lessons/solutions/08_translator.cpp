// Reference solutions to lesson 08's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

#include "lessons/08_translator/exercises.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace heed::lesson08 {

std::vector<std::vector<int64_t>> greedy_decode(nn::Decoder& decoder, int64_t batch, int64_t start,
                                                int64_t eos, int64_t max_new_tokens) {
  std::vector<std::vector<int64_t>> out(batch);
  std::vector<int64_t> running(batch);  // row -> source
  std::iota(running.begin(), running.end(), 0);
  std::vector<float> last(batch, float(start));
  for (int64_t t = 0; t < max_new_tokens && !running.empty(); ++t) {
    const Tensor lp = contiguous(decoder.step(from_vector(last, {int64_t(last.size())})));  // (N, V)
    const int64_t V = lp.size(1);
    std::vector<int64_t> rows, next_running;
    std::vector<float> next_last;
    for (int64_t r = 0; r < int64_t(running.size()); ++r) {
      const float* row = lp.data() + r * V;
      const int64_t best = std::max_element(row, row + V) - row;
      out[running[r]].push_back(best);
      if (best == eos) continue;
      rows.push_back(r);
      next_running.push_back(running[r]);
      next_last.push_back(float(best));
    }
    if (!rows.empty() && rows.size() < running.size()) decoder.reorder(rows);
    running = std::move(next_running);
    last = std::move(next_last);
  }
  return out;
}

BeamStep beam_step(const std::vector<Beam>& beams, const Tensor& log_probs, int64_t K, int64_t eos,
                   double alpha) {
  const int64_t n = int64_t(beams.size());
  HEED_CHECK(n >= 1 && log_probs.dim() == 2 && log_probs.size(0) == n, "beam_step: ", n,
             " beams need log_probs (", n, ", V), got ", log_probs.shape());
  const Tensor lp = contiguous(log_probs);
  const int64_t V = lp.size(1), top = std::min(V, K + 1);
  // Each beam's K + 1 best symbols: K runners and one eos at most come from one beam.
  struct Candidate {
    double log_prob;
    int64_t h, v;
  };
  std::vector<Candidate> candidates;
  std::vector<int64_t> symbols(V);
  for (int64_t h = 0; h < n; ++h) {
    const float* row = lp.data() + h * V;
    std::iota(symbols.begin(), symbols.end(), 0);
    std::partial_sort(symbols.begin(), symbols.begin() + top, symbols.end(),
                      [&](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    for (int64_t i = 0; i < top; ++i)
      candidates.push_back({beams[h].log_prob + double(row[symbols[i]]), h, symbols[i]});
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.log_prob != b.log_prob) return a.log_prob > b.log_prob;
    return a.h != b.h ? a.h < b.h : a.v < b.v;
  });
  BeamStep step;
  for (int64_t rank = 0; rank < int64_t(candidates.size()) && int64_t(step.running.size()) < K; ++rank) {
    const Candidate& c = candidates[rank];
    Beam extended{beams[c.h].tokens, c.log_prob};
    extended.tokens.push_back(c.v);
    if (c.v == eos) {
      if (rank >= K) continue;
      const double L = double(extended.tokens.size());
      step.scores.push_back(alpha == 0 ? c.log_prob : c.log_prob / std::pow(L, alpha));
      step.finished.push_back(std::move(extended));
    } else {
      step.running.push_back(std::move(extended));
      step.parents.push_back(c.h);
    }
  }
  return step;
}

NgramMatches clipped_matches(const std::vector<int64_t>& hypothesis,
                             const std::vector<std::vector<int64_t>>& references, int64_t n) {
  using Gram = std::vector<int64_t>;
  auto count = [n](const std::vector<int64_t>& s) {
    std::map<Gram, int64_t> counts;
    for (int64_t i = 0; i + n <= int64_t(s.size()); ++i) ++counts[Gram(s.begin() + i, s.begin() + i + n)];
    return counts;
  };
  std::map<Gram, int64_t> allowed;
  for (const auto& reference : references)
    for (const auto& [gram, k] : count(reference)) allowed[gram] = std::max(allowed[gram], k);
  NgramMatches m;
  for (const auto& [gram, k] : count(hypothesis)) {
    auto at = allowed.find(gram);
    if (at != allowed.end()) m.matches += std::min(k, at->second);
  }
  m.total = std::max<int64_t>(0, int64_t(hypothesis.size()) - n + 1);
  return m;
}

double bleu(const std::vector<std::vector<int64_t>>& hypotheses,
            const std::vector<std::vector<std::vector<int64_t>>>& references, int64_t max_n) {
  HEED_CHECK(hypotheses.size() == references.size(), "bleu: ", hypotheses.size(), " hypotheses, ",
             references.size(), " reference lists");
  std::vector<int64_t> matches(max_n, 0), totals(max_n, 0);
  int64_t c = 0, r = 0;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const int64_t length = int64_t(hypotheses[i].size());
    int64_t closest = int64_t(references[i].at(0).size());
    for (const auto& reference : references[i]) {
      const int64_t l = int64_t(reference.size());
      if (std::abs(l - length) < std::abs(closest - length) ||
          (std::abs(l - length) == std::abs(closest - length) && l < closest))
        closest = l;
    }
    c += length;
    r += closest;
    for (int64_t n = 1; n <= max_n; ++n) {
      const NgramMatches m = clipped_matches(hypotheses[i], references[i], n);
      matches[n - 1] += m.matches;
      totals[n - 1] += m.total;
    }
  }
  if (c == 0) return 0;
  const double bp = c > r ? 1.0 : std::exp(1.0 - double(r) / double(c));
  double log_sum = 0;
  for (int64_t n = 0; n < max_n; ++n) {
    if (matches[n] == 0) return 0;
    log_sum += std::log(double(matches[n]) / double(totals[n]));
  }
  return bp * std::exp(log_sum / double(max_n));
}

AlignmentCount alignment_accuracy(const Tensor& weights, const std::vector<std::vector<int>>& alignments) {
  HEED_CHECK(weights.dim() == 3 && weights.size(0) == int64_t(alignments.size()),
             "alignment_accuracy: weights (B, T, S) for ", alignments.size(), " sentences, got ",
             weights.shape());
  const Tensor w = contiguous(weights);
  const int64_t T = w.size(1), S = w.size(2);
  AlignmentCount count;
  for (int64_t b = 0; b < w.size(0); ++b)
    for (int64_t t = 0; t < std::min<int64_t>(T, int64_t(alignments[b].size())); ++t) {
      if (alignments[b][t] < 0) continue;
      const float* row = w.data() + (b * T + t) * S;
      count.correct += std::max_element(row, row + S) - row == alignments[b][t];
      ++count.total;
    }
  return count;
}

}  // namespace heed::lesson08
