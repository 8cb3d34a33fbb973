// Corpus BLEU (Papineni et al. 2002): how many of a translation's n-grams,
// n = 1 .. N, appear in its references, over a whole corpus at once.
//
// For hypothesis i with references R_i, and each n-gram g of order n in it,
//   count(g)   = occurrences of g in the hypothesis
//   clipped(g) = min(count(g), max over r in R_i of occurrences of g in r)
// and over the corpus
//   m_n = sum_i sum_g clipped(g)        t_n = sum_i max(0, len_i - n + 1)
//   p_n = m_n / t_n                      (modified n-gram precision)
//   c   = sum_i len_i                    r = sum_i (length of the reference of R_i
//                                            closest to len_i; the shorter on a tie)
//   BP  = 1 if c > r,  exp(1 - r / c) if 0 < c <= r,  0 if c = 0
//   BLEU = BP * exp((1/N) sum_n log p_n)          in [0, 1] (sacrebleu prints 100x)
//
// Counts are summed before dividing (micro-averaged), so corpus BLEU is not the
// mean of sentence BLEUs. Without smoothing a p_n of 0 (no n-gram of some order
// matches, or no hypothesis has n tokens) makes BLEU 0. Smoothing (Chen &
// Cherry 2014, named as sacrebleu names them) changes only the p_n:
//   floor:  p_n = eps / t_n where m_n = 0 (smooth_value = eps, default 0.1;
//           Chen & Cherry's method 1, NLTK's method1)
//   add_k:  p_n = (m_n + k) / (t_n + k) for n >= 2 (smooth_value = k, default 1;
//           with k = 1 Chen & Cherry's method 2)
//   exp:    the j-th order with m_n = 0 (j = 1, 2, ...) gets p_n = 1 / (2^j t_n)
//           (Chen & Cherry's method 3, NIST's geometric sequence; sacrebleu's default)
// An order with t_n = 0 still gives p_n = 0 under floor and exp (no n-gram to
// smooth), and (0 + k) / (0 + k) = 1 under add_k.
//
// Tokens are strings or integer ids (a decoder's output, eos removed); the
// string version maps them to ids and calls the other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heed::nn {

enum class BleuSmoothing { none, floor, add_k, exp };

struct BleuOptions {
  int64_t max_n = 4;  // N, the highest n-gram order (torchtext's max_n)
  BleuSmoothing smoothing = BleuSmoothing::none;
  std::optional<double> smooth_value = std::nullopt;  // floor's eps (0.1) or add_k's k (1) when unset
};

struct BleuScore {
  double score = 0;                // BLEU in [0, 1]
  std::vector<double> precisions;  // p_1 .. p_N, after smoothing
  std::vector<int64_t> matches;    // m_1 .. m_N, clipped
  std::vector<int64_t> totals;     // t_1 .. t_N
  double brevity_penalty = 0;      // BP
  int64_t hypothesis_length = 0;   // c
  int64_t reference_length = 0;    // r
};

// hypotheses[i]: the tokens of translation i; references[i]: its references
// (at least one each). The two lists must be equally long.
BleuScore corpus_bleu(const std::vector<std::vector<std::string>>& hypotheses,
                      const std::vector<std::vector<std::vector<std::string>>>& references,
                      const BleuOptions& options = {});
BleuScore corpus_bleu(const std::vector<std::vector<int64_t>>& hypotheses,
                      const std::vector<std::vector<std::vector<int64_t>>>& references,
                      const BleuOptions& options = {});

}  // namespace heed::nn
