// Your answers to lesson 08's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/08_translator/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson08 {

std::vector<std::vector<int64_t>> greedy_decode(nn::Decoder& decoder, int64_t batch, int64_t start,
                                                int64_t eos, int64_t max_new_tokens) {
  (void)decoder, (void)batch, (void)start, (void)eos, (void)max_new_tokens;
  course::not_implemented(8, 1,
                          "step all rows, take each row's argmax, stop a row at eos; see section 4 of "
                          "lesson.cpp");
}

BeamStep beam_step(const std::vector<Beam>& beams, const Tensor& log_probs, int64_t K, int64_t eos,
                   double alpha) {
  (void)beams, (void)log_probs, (void)K, (void)eos, (void)alpha;
  course::not_implemented(8, 2,
                          "rank beams[h].log_prob + log_probs[h, v] over all (h, v), then walk the ranking "
                          "until K run; see section 5 of lesson.cpp");
}

NgramMatches clipped_matches(const std::vector<int64_t>& hypothesis,
                             const std::vector<std::vector<int64_t>>& references, int64_t n) {
  (void)hypothesis, (void)references, (void)n;
  course::not_implemented(
      8, 3,
      "count the hypothesis' n-grams, clip each by its most occurrences in one reference; "
      "see section 6 of lesson.cpp");
}

double bleu(const std::vector<std::vector<int64_t>>& hypotheses,
            const std::vector<std::vector<std::vector<int64_t>>>& references, int64_t max_n) {
  (void)hypotheses, (void)references, (void)max_n;
  course::not_implemented(8, 3,
                          "sum clipped_matches over the corpus per order, then BP * exp(mean log p_n); see "
                          "section 6 of lesson.cpp");
}

AlignmentCount alignment_accuracy(const Tensor& weights, const std::vector<std::vector<int>>& alignments) {
  (void)weights, (void)alignments;
  course::not_implemented(
      8, 4,
      "per French word with an alignment >= 0, is its row's argmax that English word? see "
      "section 7 of lesson.cpp");
}

}  // namespace heed::lesson08
