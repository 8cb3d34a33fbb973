// Lesson 08's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/generate.h"
#include "tensor/tensor.h"

namespace heed::lesson08 {

// Exercise 1: greedy decoding to eos (section 4 of lesson.cpp).
// `decoder` holds `batch` sources at their first step. Feed `start` to every
// row; then, at each step, every row takes the symbol of highest log-probability
// in its row of decoder.step(...) (N, V) (the first one on a tie) and feeds it
// back at the next step. A row stops once it has emitted `eos` (kept as its
// last symbol) or holds max_new_tokens symbols; a stopped row must not grow.
// Either keep stepping stopped rows and ignore what they give, or do as
// nn::greedy_search does: decoder.reorder(rows) with only the rows still
// running, in order, so the model computes nothing nobody reads (row r of the
// next step is then the r-th running source, not source r).
// Returns per source its symbols, without the start symbol: nn::greedy_search's tokens.
std::vector<std::vector<int64_t>> greedy_decode(nn::Decoder& decoder, int64_t batch, int64_t start,
                                                int64_t eos, int64_t max_new_tokens);

// Exercise 2: one step of beam search for one source (section 5).
struct Beam {
  std::vector<int64_t> tokens;  // the generated symbols, without the start symbol
  double log_prob = 0;          // the sum of their log-probabilities
};
struct BeamStep {
  std::vector<Beam> running;     // at most K, in rank order (highest log_prob first)
  std::vector<int64_t> parents;  // running[i] extends beams[parents[i]]
  std::vector<Beam> finished;    // the hypotheses that emitted eos this step, in rank order
  std::vector<double> scores;    // finished[i]'s score: log_prob / L^alpha, L its length (eos counted)
};
// beams: the n running hypotheses (1 <= n <= K), all of one length;
// log_probs: (n, V), row h the next symbol's log-probabilities after beams[h].
// Candidate (h, v) is beams[h] extended by v, of log_prob beams[h].log_prob +
// log_probs[h, v]. Rank all n * V candidates by log_prob, highest first (a
// tie: lower h first, then lower v). Walk down the ranking until K candidates
// run: an eos candidate within the first K ranks is finished; an eos candidate
// ranked lower is dropped; any other symbol runs on. Only each beam's K + 1
// best symbols can be reached, so a full sort of n * V is not needed.
// The length penalty cannot reorder candidates of one step (they share L):
// it only matters when finished hypotheses of different lengths are compared.
BeamStep beam_step(const std::vector<Beam>& beams, const Tensor& log_probs, int64_t K, int64_t eos,
                   double alpha);

// Exercise 3: corpus BLEU from clipped n-gram counts and the brevity penalty (section 6).
struct NgramMatches {
  int64_t matches = 0;  // clipped: n-gram g counts at most max over references of its occurrences there
  int64_t total = 0;    // the hypothesis' n-grams: max(0, length - n + 1)
};
// One hypothesis against its references (at least one), for n-grams of order n >= 1.
NgramMatches clipped_matches(const std::vector<int64_t>& hypothesis,
                             const std::vector<std::vector<int64_t>>& references, int64_t n);
// Corpus BLEU without smoothing, as nn::corpus_bleu: p_n = sum of matches /
// sum of totals over the corpus for n = 1 .. max_n; c the hypotheses' total
// length, r the sum of each hypothesis' closest reference length (the shorter
// on a tie); BP = 1 if c > r, exp(1 - r / c) if 0 < c <= r, 0 if c = 0;
// BLEU = BP * exp(mean of log p_n), 0 when some p_n is 0.
double bleu(const std::vector<std::vector<int64_t>>& hypotheses,
            const std::vector<std::vector<std::vector<int64_t>>>& references, int64_t max_n = 4);

// Exercise 4: attention's alignment accuracy against the true alignment (section 7).
struct AlignmentCount {
  int64_t correct = 0, total = 0;
};
// weights: (B, T, S) attention weights (any strides), row t of sentence b the
// French word t's weights over the English words s; alignments[b][t]: the
// English word French word t translates, or -1 (none). A French word counts
// when its alignment is >= 0, and is correct when the argmax of its row (the
// first maximum on a tie) is that English word. Rows t >= alignments[b].size()
// (the eos step, padding) do not count.
AlignmentCount alignment_accuracy(const Tensor& weights, const std::vector<std::vector<int>>& alignments);

}  // namespace heed::lesson08
