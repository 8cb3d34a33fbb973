// Greedy and beam search over a Decoder (the rules are in generate.h).
//
// The search itself is bookkeeping on the host: a step's log-probs (N, V) are
// read once, the candidates of each source are ranked by a partial sort of
// its n_b * V extensions (only the first K + n_b can matter: at most n_b of
// them are eos), and the survivors' rows go back to the model in one reorder.
#include "nn/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensor/ops.h"

namespace heed::nn {
namespace {

Tensor symbols(const std::vector<int64_t>& ids) {
  std::vector<float> values(ids.begin(), ids.end());
  return from_vector(values, {int64_t(ids.size())});
}

// The decoder's step, checked: log-probs (n, V) with V the same at every step,
// contiguous so rows can be read as plain arrays.
Tensor checked_step(const char* op, Decoder& decoder, const std::vector<int64_t>& last, int64_t eos,
                    int64_t& vocab) {
  const int64_t n = int64_t(last.size());
  Tensor lp = decoder.step(symbols(last));
  HEED_CHECK(lp.defined(), op, ": Decoder::step gave an undefined tensor");
  HEED_CHECK(lp.dim() == 2 && lp.size(0) == n && lp.size(1) >= 1, op,
             ": Decoder::step must give log-probs (N, V) with N = ", n, " hypotheses, got ", lp.shape());
  HEED_CHECK(vocab == 0 || lp.size(1) == vocab, op, ": Decoder::step gave ", lp.size(1),
             " symbols after giving ", vocab);
  vocab = lp.size(1);
  lp = contiguous(lp);
  HEED_CHECK(eos < vocab, op, ": eos_token_id ", eos, " is not a symbol of the decoder's ", vocab);
  const float* p = lp.data();
  for (int64_t i = 0; i < lp.numel(); ++i)
    HEED_CHECK(!std::isnan(p[i]), op, ": Decoder::step gave NaN at hypothesis ", i / vocab, ", symbol ",
               i % vocab);
  return lp;
}

void check_common(const char* op, int64_t batch, int64_t max_new_tokens, int64_t start, int64_t eos) {
  HEED_CHECK(batch >= 0, op, ": batch must be >= 0, got ", batch);
  HEED_CHECK(max_new_tokens >= 1, op, ": max_new_tokens must be >= 1, got ", max_new_tokens);
  HEED_CHECK(start >= 0, op, ": decoder_start_token_id must be >= 0, got ", start);
  HEED_CHECK(eos >= -1, op, ": eos_token_id must be a symbol or -1 (none), got ", eos);
}

}  // namespace

std::vector<Hypothesis> greedy_search(Decoder& decoder, int64_t batch, const GreedySearchOptions& options) {
  constexpr const char* op = "greedy_search";
  check_common(op, batch, options.max_new_tokens, options.decoder_start_token_id, options.eos_token_id);
  std::vector<Hypothesis> result(batch);
  std::vector<int64_t> alive(batch);  // row -> source
  std::iota(alive.begin(), alive.end(), 0);
  std::vector<int64_t> last(batch, options.decoder_start_token_id);
  int64_t vocab = 0;
  for (int64_t t = 0; t < options.max_new_tokens && !alive.empty(); ++t) {
    Tensor lp = checked_step(op, decoder, last, options.eos_token_id, vocab);
    std::vector<int64_t> keep, next_alive, next_last;
    for (int64_t r = 0; r < int64_t(alive.size()); ++r) {
      const float* row = lp.data() + r * vocab;
      const int64_t best = std::max_element(row, row + vocab) - row;  // the first maximum
      Hypothesis& h = result[alive[r]];
      h.tokens.push_back(best);
      h.log_prob += row[best];
      if (best == options.eos_token_id) continue;
      keep.push_back(r);
      next_alive.push_back(alive[r]);
      next_last.push_back(best);
    }
    if (t + 1 < options.max_new_tokens && !keep.empty() && keep.size() < alive.size()) decoder.reorder(keep);
    alive = std::move(next_alive);
    last = std::move(next_last);
  }
  for (Hypothesis& h : result) h.score = h.log_prob;
  return result;
}

namespace {

struct Running {
  std::vector<int64_t> tokens;
  double log_prob = 0;
};

// A source's finished hypotheses, best first, at most `keep` of them; a later
// one of equal score goes after the earlier.
void add_finished(std::vector<Hypothesis>& finished, Hypothesis h, int64_t keep) {
  auto at = std::upper_bound(finished.begin(), finished.end(), h.score,
                             [](double s, const Hypothesis& f) { return s > f.score; });
  if (at - finished.begin() >= keep) return;
  finished.insert(at, std::move(h));
  if (int64_t(finished.size()) > keep) finished.pop_back();
}

double penalized(double log_prob, int64_t length, double alpha) {
  return alpha == 0 ? log_prob : log_prob / std::pow(double(length), alpha);
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(Decoder& decoder, int64_t batch,
                                                 const BeamSearchOptions& options) {
  constexpr const char* op = "beam_search";
  check_common(op, batch, options.max_new_tokens, options.decoder_start_token_id, options.eos_token_id);
  const int64_t K = options.num_beams, R = options.num_return_sequences, eos = options.eos_token_id,
                max_len = options.max_new_tokens;
  const double alpha = options.length_penalty;
  HEED_CHECK(K >= 1, op, ": num_beams must be >= 1, got ", K);
  HEED_CHECK(R >= 1 && R <= K, op, ": num_return_sequences must be in [1, num_beams = ", K, "], got ", R);
  HEED_CHECK(std::isfinite(alpha), op, ": length_penalty must be finite, got ", alpha);

  std::vector<std::vector<Running>> beams(batch, std::vector<Running>(1));  // each starts at the start symbol
  std::vector<std::vector<Hypothesis>> finished(batch);
  std::vector<int64_t> active(batch);  // the sources still searching, in row order
  std::iota(active.begin(), active.end(), 0);
  int64_t vocab = 0;
  for (int64_t t = 0; t < max_len && !active.empty(); ++t) {
    std::vector<int64_t> last;
    for (int64_t b : active)
      for (const Running& h : beams[b])
        last.push_back(h.tokens.empty() ? options.decoder_start_token_id : h.tokens.back());
    Tensor lp = checked_step(op, decoder, last, eos, vocab);
    const int64_t length = t + 1;  // of every candidate this step
    std::vector<int64_t> parents, still_active;
    int64_t row0 = 0;  // this source's first row
    for (int64_t b : active) {
      const std::vector<Running>& beam = beams[b];
      const int64_t n = int64_t(beam.size()), total = n * vocab, m = std::min(total, K + n);
      std::vector<double> cand(total);  // candidate h * V + v: log_prob of beam[h] + v
      for (int64_t i = 0; i < total; ++i) cand[i] = beam[i / vocab].log_prob + lp.data()[row0 * vocab + i];
      std::vector<int64_t> order(total);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + m, order.end(), [&](int64_t x, int64_t y) {
        return cand[x] > cand[y] || (cand[x] == cand[y] && x < y);
      });
      std::vector<Running> next;
      std::vector<int64_t> next_parents;
      for (int64_t rank = 0; rank < m && int64_t(next.size()) < K; ++rank) {
        const int64_t h = order[rank] / vocab, v = order[rank] % vocab;
        std::vector<int64_t> tokens = beam[h].tokens;
        tokens.push_back(v);
        if (v == eos) {
          if (rank < K)
            add_finished(finished[b],
                         {std::move(tokens), cand[order[rank]], penalized(cand[order[rank]], length, alpha)},
                         R);
          continue;
        }
        next.push_back({std::move(tokens), cand[order[rank]]});
        next_parents.push_back(row0 + h);
      }
      row0 += n;

      bool done = next.empty();
      if (length == max_len) {
        for (Running& h : next)
          add_finished(finished[b], {std::move(h.tokens), h.log_prob, penalized(h.log_prob, length, alpha)},
                       R);
        done = true;
      } else if (!done && int64_t(finished[b].size()) >= R) {
        // next[0] has the highest log_prob; it can still reach s / L^alpha, L in [length + 1, max_len]
        const double s = next[0].log_prob;
        const double bound = std::max(penalized(s, length + 1, alpha), penalized(s, max_len, alpha));
        done = bound <= finished[b][R - 1].score;
      }
      if (done) continue;
      beams[b] = std::move(next);
      parents.insert(parents.end(), next_parents.begin(), next_parents.end());
      still_active.push_back(b);
    }
    active = std::move(still_active);
    if (active.empty()) break;
    bool identity = int64_t(parents.size()) == lp.size(0);
    for (int64_t i = 0; identity && i < int64_t(parents.size()); ++i) identity = parents[i] == i;
    if (!identity) decoder.reorder(parents);
  }
  return finished;
}

Tensor to_tensor(const std::vector<Hypothesis>& hypotheses, float padding_value) {
  const int64_t B = int64_t(hypotheses.size());
  int64_t T = 0;
  for (const Hypothesis& h : hypotheses) T = std::max(T, int64_t(h.tokens.size()));
  std::vector<float> values(B * T, padding_value);
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < hypotheses[b].tokens.size(); ++t)
      values[b * T + t] = float(hypotheses[b].tokens[t]);
  return from_vector(values, {B, T});
}

}  // namespace heed::nn
