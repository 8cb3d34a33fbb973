// Corpus BLEU (the definition is in bleu.h).
//
// An n-gram is counted as a std::vector<int64_t> key in a std::map: corpora
// here are toy-sized, and a map keeps the code a reader can check by eye.
#include "nn/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "tensor/error.h"

namespace heed::nn {
namespace {

using Sentence = std::vector<int64_t>;
using Counts = std::map<Sentence, int64_t>;

Counts ngrams(const Sentence& s, int64_t n) {
  Counts counts;
  for (int64_t i = 0; i + n <= int64_t(s.size()); ++i) ++counts[Sentence(s.begin() + i, s.begin() + i + n)];
  return counts;
}

}  // namespace

BleuScore corpus_bleu(const std::vector<std::vector<int64_t>>& hypotheses,
                      const std::vector<std::vector<std::vector<int64_t>>>& references,
                      const BleuOptions& options) {
  const int64_t N = options.max_n;
  HEED_CHECK(N >= 1, "corpus_bleu: max_n must be >= 1, got ", N);
  HEED_CHECK(hypotheses.size() == references.size(), "corpus_bleu: ", hypotheses.size(),
             " hypotheses but references for ", references.size(), ": one list of references per hypothesis");
  double smooth = 0;
  if (options.smoothing == BleuSmoothing::floor || options.smoothing == BleuSmoothing::add_k) {
    smooth = options.smooth_value.value_or(options.smoothing == BleuSmoothing::floor ? 0.1 : 1.0);
    HEED_CHECK(std::isfinite(smooth) && smooth > 0, "corpus_bleu: smooth_value must be positive, got ",
               smooth);
  }

  BleuScore out;
  out.matches.assign(N, 0);
  out.totals.assign(N, 0);
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const Sentence& hyp = hypotheses[i];
    const auto& refs = references[i];
    HEED_CHECK(!refs.empty(), "corpus_bleu: hypothesis ", i, " has no reference");
    const int64_t c = int64_t(hyp.size());
    int64_t closest = int64_t(refs[0].size());
    for (const Sentence& ref : refs) {
      const int64_t r = int64_t(ref.size());
      if (std::abs(r - c) < std::abs(closest - c) ||
          (std::abs(r - c) == std::abs(closest - c) && r < closest))
        closest = r;
    }
    out.hypothesis_length += c;
    out.reference_length += closest;
    for (int64_t n = 1; n <= N; ++n) {
      Counts allowed;  // per n-gram, its most occurrences in any one reference
      for (const Sentence& ref : refs)
        for (const auto& [gram, k] : ngrams(ref, n)) allowed[gram] = std::max(allowed[gram], k);
      for (const auto& [gram, k] : ngrams(hyp, n)) {
        auto at = allowed.find(gram);
        if (at != allowed.end()) out.matches[n - 1] += std::min(k, at->second);
      }
      out.totals[n - 1] += std::max<int64_t>(0, c - n + 1);
    }
  }

  const double c = double(out.hypothesis_length), r = double(out.reference_length);
  out.brevity_penalty = c == 0 ? 0.0 : c > r ? 1.0 : std::exp(1.0 - r / c);
  out.precisions.assign(N, 0.0);
  double log_sum = 0;
  bool zero = false;
  double exp_denominator = 1;  // 2^j for the j-th order without a match
  for (int64_t n = 1; n <= N; ++n) {
    double m = double(out.matches[n - 1]), t = double(out.totals[n - 1]);
    if (options.smoothing == BleuSmoothing::add_k && n >= 2) m += smooth, t += smooth;
    double p = 0;
    if (t > 0 && m > 0) {
      p = m / t;
    } else if (t > 0) {
      if (options.smoothing == BleuSmoothing::floor) p = smooth / t;
      if (options.smoothing == BleuSmoothing::exp) p = 1.0 / ((exp_denominator *= 2) * t);
    }
    out.precisions[n - 1] = p;
    if (p == 0)
      zero = true;
    else
      log_sum += std::log(p);
  }
  out.score = zero ? 0.0 : out.brevity_penalty * std::exp(log_sum / double(N));
  return out;
}

BleuScore corpus_bleu(const std::vector<std::vector<std::string>>& hypotheses,
                      const std::vector<std::vector<std::vector<std::string>>>& references,
                      const BleuOptions& options) {
  std::unordered_map<std::string, int64_t> ids;
  auto encode = [&](const std::vector<std::string>& words) {
    std::vector<int64_t> s;
    s.reserve(words.size());
    for (const std::string& w : words) s.push_back(ids.emplace(w, int64_t(ids.size())).first->second);
    return s;
  };
  std::vector<std::vector<int64_t>> hyps;
  for (const auto& h : hypotheses) hyps.push_back(encode(h));
  std::vector<std::vector<std::vector<int64_t>>> refs;
  for (const auto& rs : references) {
    refs.emplace_back();
    for (const auto& r : rs) refs.back().push_back(encode(r));
  }
  return corpus_bleu(hyps, refs, options);
}

}  // namespace heed::nn
