// Corpus BLEU (nn/bleu.h): hand-computed cases with their arithmetic, and the
// values that the documentation of NLTK and torchtext gives for their examples.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "nn/bleu.h"
#include "tensor/error.h"

using namespace heed;
using nn::BleuSmoothing;

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("corpus_bleu: Papineni et al.'s modified unigram precision clips 'the' x 7 to 2 of 7") {
  // refs "the cat is on the mat" and "there is a cat on the mat": 'the' appears at most twice in one
  // reference, so m_1 = min(7, 2) = 2, t_1 = 7; c = 7, the closest reference length is 7, BP = 1; BLEU-1 =
  // 2/7.
  auto s =
      nn::corpus_bleu({words("the the the the the the the")},
                      {{words("the cat is on the mat"), words("there is a cat on the mat")}}, {.max_n = 1});
  CHECK(s.matches == std::vector<int64_t>{2});
  CHECK(s.totals == std::vector<int64_t>{7});
  CHECK(s.reference_length == 7);
  CHECK(s.brevity_penalty == 1.0);
  CHECK(s.score == doctest::Approx(2.0 / 7.0).epsilon(1e-12));
}

TEST_CASE("corpus_bleu: the brevity penalty of a short hypothesis, by hand") {
  // hyp "a b c d", ref "a b c e f g", N = 2:
  //   unigrams a b c match: p_1 = 3/4;  bigrams "a b", "b c" match, "c d" not: p_2 = 2/3
  //   c = 4 < r = 6:  BP = exp(1 - 6/4) = exp(-0.5)
  //   BLEU = exp(-0.5) * sqrt(3/4 * 2/3) = exp(-0.5) * sqrt(0.5) = 0.42888194248
  auto s = nn::corpus_bleu({words("a b c d")}, {{words("a b c e f g")}}, {.max_n = 2});
  CHECK(s.precisions[0] == doctest::Approx(0.75));
  CHECK(s.precisions[1] == doctest::Approx(2.0 / 3.0));
  CHECK(s.brevity_penalty == doctest::Approx(std::exp(-0.5)).epsilon(1e-12));
  CHECK(s.score == doctest::Approx(0.42888194248035344).epsilon(1e-12));
}

TEST_CASE(
    "corpus_bleu sums clipped counts over the corpus, clips by the most generous reference, and takes the "
    "shorter of two equally close reference lengths") {
  // hyp 1 "a a a b", refs "a b c" (3) and "a a c b x" (5):
  //   unigrams: a x 3 clipped to 2 (the second ref has two), b x 1 -> 1:   m_1 = 3 of 4
  //   bigrams:  "a a" x 2 clipped to 1, "a b" x 1 -> 1:                    m_2 = 2 of 3
  //   length 4 is 1 from both 3 and 5: the shorter, 3, counts
  // hyp 2 "c d", ref "c d": m_1 = 2 of 2, m_2 = 1 of 1, length 2
  // corpus: p_1 = 5/6, p_2 = 3/4, c = 6 > r = 5 so BP = 1 (with 5 as r_1 it would be exp(1 - 7/6));
  //   BLEU = sqrt(5/6 * 3/4) = sqrt(0.625) = 0.79056941504,
  //   not the mean of the sentence BLEUs (sqrt(3/4 * 2/3) + 1) / 2 = 0.854.
  const std::vector<std::vector<std::vector<int64_t>>> refs{{{0, 1, 2}, {0, 0, 2, 1, 9}}, {{2, 3}}};
  auto s = nn::corpus_bleu(std::vector<std::vector<int64_t>>{{0, 0, 0, 1}, {2, 3}}, refs, {.max_n = 2});
  CHECK(s.matches == std::vector<int64_t>{5, 3});
  CHECK(s.totals == std::vector<int64_t>{6, 4});
  CHECK(s.hypothesis_length == 6);
  CHECK(s.reference_length == 5);
  CHECK(s.brevity_penalty == 1.0);
  CHECK(s.score == doctest::Approx(0.7905694150420949).epsilon(1e-12));
  // The same corpus as strings gives the same numbers.
  auto w = nn::corpus_bleu({words("a a a b"), words("c d")},
                           {{words("a b c"), words("a a c b x")}, {words("c d")}}, {.max_n = 2});
  CHECK(w.score == s.score);
  CHECK(w.matches == s.matches);
}

TEST_CASE("corpus_bleu smoothing: none, floor, add_k and exp on a hypothesis without 3- or 4-gram matches") {
  // hyp "a b c d", ref "a b x d", N = 4, c = r = 4 so BP = 1:
  //   m = (3, 1, 0, 0), t = (4, 3, 2, 1)
  //   none:       p_3 = 0                                     -> BLEU 0
  //   floor 0.1:  p = (3/4, 1/3, 0.1/2, 0.1/1)               -> (0.75 * 1/3 * 0.05 * 0.1)^(1/4) =
  //   0.00125^(1/4) exp:        p_3 = 1/(2 * 2), p_4 = 1/(4 * 1)           -> (0.75 * 1/3 * 1/4 * 1/4)^(1/4)
  //   = 2^-1.5 add_k 1:    p = (3/4, (1+1)/(3+1), (0+1)/(2+1), (0+1)/(1+1)) -> (0.75 * 0.5 * 1/3 * 0.5)^(1/4)
  //   = 0.5
  const auto hyp = std::vector<std::vector<std::string>>{words("a b c d")};
  const auto refs = std::vector<std::vector<std::vector<std::string>>>{{words("a b x d")}};
  auto none = nn::corpus_bleu(hyp, refs);
  CHECK(none.matches == std::vector<int64_t>{3, 1, 0, 0});
  CHECK(none.totals == std::vector<int64_t>{4, 3, 2, 1});
  CHECK(none.score == 0.0);
  auto floor = nn::corpus_bleu(hyp, refs, {.smoothing = BleuSmoothing::floor});
  CHECK(floor.precisions[2] == doctest::Approx(0.05));
  CHECK(floor.score == doctest::Approx(std::pow(0.00125, 0.25)).epsilon(1e-12));
  auto floor_01 = nn::corpus_bleu(hyp, refs, {.smoothing = BleuSmoothing::floor, .smooth_value = 0.01});
  CHECK(floor_01.score == doctest::Approx(std::pow(0.75 / 3 * 0.005 * 0.01, 0.25)).epsilon(1e-12));
  auto exp = nn::corpus_bleu(hyp, refs, {.smoothing = BleuSmoothing::exp});
  CHECK(exp.precisions[3] == doctest::Approx(0.25));
  CHECK(exp.score == doctest::Approx(std::pow(2.0, -1.5)).epsilon(1e-12));
  auto add_k = nn::corpus_bleu(hyp, refs, {.smoothing = BleuSmoothing::add_k});
  CHECK(add_k.precisions[0] == doctest::Approx(0.75));  // unigrams are never smoothed
  CHECK(add_k.score == doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE(
    "corpus_bleu is 0 without a single match, and for empty hypotheses; an empty one only costs brevity") {
  auto zero = nn::corpus_bleu({words("x y z w")}, {{words("a b c d")}});
  CHECK(zero.matches == std::vector<int64_t>{0, 0, 0, 0});
  CHECK(zero.score == 0.0);
  // Smoothing cannot rescue 4-grams a 3-token hypothesis does not have (t_4 = 0).
  CHECK(nn::corpus_bleu({words("x y z")}, {{words("a b c")}}, {.smoothing = BleuSmoothing::floor}).score ==
        0.0);

  auto empty = nn::corpus_bleu({words("")}, {{words("a b")}}, {.smoothing = BleuSmoothing::exp});
  CHECK(empty.hypothesis_length == 0);
  CHECK(empty.brevity_penalty == 0.0);
  CHECK(empty.score == 0.0);
  CHECK(nn::corpus_bleu(std::vector<std::vector<std::string>>{}, {}).score == 0.0);  // an empty corpus

  // "a b c d" matches its reference fully (every p_n = 1); the empty hypothesis adds no n-gram but its
  // reference's 2 tokens: c = 4, r = 6, BLEU = BP = exp(1 - 6/4) = exp(-0.5).
  auto with_empty = nn::corpus_bleu({words("a b c d"), words("")}, {{words("a b c d")}, {words("e f")}});
  CHECK(with_empty.score == doctest::Approx(std::exp(-0.5)).epsilon(1e-12));
}

TEST_CASE("corpus_bleu equals the values in NLTK's and torchtext's documentation") {
  // nltk.translate.bleu_score.corpus_bleu's docstring: corpus_bleu([[ref1a, ref1b, ref1c], [ref2a]],
  // [hyp1, hyp2]) = 0.5920..., sentence_bleu([ref1a, ref1b, ref1c], hyp1) = 0.5045..., and the mean of the
  // two sentence_bleu values is 0.6223... (NLTK's sentence_bleu is corpus_bleu of a one-sentence corpus).
  const auto hyp1 =
      words("It is a guide to action which ensures that the military always obeys the commands of the party");
  const auto ref1a =
      words("It is a guide to action that ensures that the military will forever heed Party commands");
  const auto ref1b = words(
      "It is the guiding principle which guarantees the military forces always being under the command of "
      "the Party");
  const auto ref1c =
      words("It is the practical guide for the army always to heed the directions of the party");
  const auto hyp2 = words("he read the book because he was interested in world history");
  const auto ref2a = words("he was interested in world history because he read the book");
  const double corpus = nn::corpus_bleu({hyp1, hyp2}, {{ref1a, ref1b, ref1c}, {ref2a}}).score;
  const double sentence1 = nn::corpus_bleu({hyp1}, {{ref1a, ref1b, ref1c}}).score;
  const double sentence2 = nn::corpus_bleu({hyp2}, {{ref2a}}).score;
  CHECK(corpus >= 0.5920);
  CHECK(corpus < 0.5921);
  CHECK(sentence1 >= 0.5045);
  CHECK(sentence1 < 0.5046);
  CHECK((sentence1 + sentence2) / 2 >= 0.6223);
  CHECK((sentence1 + sentence2) / 2 < 0.6224);

  // torchtext.data.metrics.bleu_score's docstring: 0.8408964276313782, the float32 nearest to
  // (4/6 * 3/4 * 2/2 * 1/1)^(1/4) = 0.5^(1/4) = 0.8408964152537 (torchtext computes in float32); BP = 1.
  auto t =
      nn::corpus_bleu({words("My full pytorch test"), words("Another Sentence")},
                      {{words("My full pytorch test"), words("Completely Different")}, {words("No Match")}});
  CHECK(float(t.score) == float(0.8408964276313782));
  CHECK(t.score == doctest::Approx(std::pow(0.5, 0.25)).epsilon(1e-12));
}

TEST_CASE("corpus_bleu rejects mismatched corpora, hypotheses without references and bad options") {
  CHECK_THROWS_WITH_AS(nn::corpus_bleu({words("a b"), words("c")}, {{words("a b")}}),
                       doctest::Contains("corpus_bleu: 2 hypotheses but references for 1"), Error);
  CHECK_THROWS_WITH_AS(nn::corpus_bleu({words("a b")}, {{}}),
                       doctest::Contains("corpus_bleu: hypothesis 0 has no reference"), Error);
  CHECK_THROWS_WITH_AS(nn::corpus_bleu({words("a b")}, {{words("a b")}}, {.max_n = 0}),
                       doctest::Contains("corpus_bleu: max_n must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(nn::corpus_bleu({words("a b")}, {{words("a b")}},
                                       {.smoothing = BleuSmoothing::add_k, .smooth_value = -1}),
                       doctest::Contains("corpus_bleu: smooth_value must be positive, got -1"), Error);
}
