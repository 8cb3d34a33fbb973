// Lesson 08's exercises, graded against the library: greedy decoding against
// nn::greedy_search, a beam step (inside beam_loop.h) against nn::beam_search,
// BLEU against nn::corpus_bleu, alignment accuracy against a plain loop.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/08_translator/beam_loop.h"
#include "lessons/08_translator/exercises.h"
#include "lessons/common/seq2seq.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// A small fixed Decoder: row r's next-symbol log-probs are a pseudo-random
// function of the symbols it has read so far (its history hash), so
// hypotheses differ, the search must follow reorder() and finished rows must
// really stop. `levels` > 0 rounds the logits to that many values: ties.
class HashDecoder : public nn::Decoder {
 public:
  HashDecoder(int64_t batch, int64_t vocab, uint64_t seed, int levels = 0)
      : vocab_(vocab), levels_(levels), state_(size_t(batch)) {
    for (int64_t b = 0; b < batch; ++b) state_[size_t(b)] = mix(seed * 1000003u + uint64_t(b));
  }
  Tensor step(const Tensor& last) override {
    const int64_t N = last.size(0);
    REQUIRE(N == int64_t(state_.size()));
    std::vector<float> logits(size_t(N * vocab_));
    for (int64_t r = 0; r < N; ++r) {
      uint64_t& h = state_[size_t(r)];
      h = mix(h ^ (uint64_t(last.at({r})) + 0x9e37u));
      for (int64_t v = 0; v < vocab_; ++v) {
        const double u = double(mix(h + uint64_t(v) * 0x51ed27u) >> 11) / double(1ull << 53);  // [0, 1)
        logits[size_t(r * vocab_ + v)] = levels_ > 0 ? float(int(u * levels_)) : float(4 * u);
      }
    }
    return log_softmax(from_vector(logits, {N, vocab_}), -1);
  }
  void reorder(const std::vector<int64_t>& rows) override {
    std::vector<uint64_t> next;
    for (int64_t r : rows) next.push_back(state_.at(size_t(r)));
    state_ = std::move(next);
  }

 private:
  static uint64_t mix(uint64_t x) {  // splitmix64's finalizer
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  int64_t vocab_;
  int levels_;
  std::vector<uint64_t> state_;
};

std::string ids_text(const std::vector<int64_t>& ids) {
  std::ostringstream out;
  out << "{";
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
  out << "}";
  return out.str();
}

// An untrained course Seq2Seq and a padded batch of 3 sources: a real model's decoder.
course::Seq2Seq small_model(uint64_t seed) {
  return course::Seq2Seq({.source_vocab = 9,
                          .target_vocab = 7,
                          .embed = 8,
                          .hidden = 12,
                          .attention = course::AttentionKind::bahdanau,
                          .bidirectional = true,
                          .bos = 1,
                          .seed = seed});
}
const Tensor kSources = from_vector({4, 5, 6, 7, 8, 3, 8, 4, 0, 0, 6, 0, 0, 0, 0}, {3, 5});
const Tensor kPadding = from_vector({0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1}, {3, 5});

}  // namespace

TEST_CASE("lesson 08, exercise 1: greedy decoding to eos") {
  struct Case {
    int64_t batch, vocab, eos, max_new_tokens;
    int levels;
  };
  for (const Case c : {Case{1, 5, 2, 1, 0}, Case{4, 5, 2, 3, 0}, Case{5, 4, 0, 17, 0}, Case{6, 3, 2, 12, 0},
                       Case{3, 6, 1, 9, 2}, Case{4, 5, -1, 7, 0}}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      HashDecoder theirs(c.batch, c.vocab, seed, c.levels), mine(c.batch, c.vocab, seed, c.levels);
      const auto heeds = nn::greedy_search(
          theirs, c.batch,
          {.max_new_tokens = c.max_new_tokens, .decoder_start_token_id = 0, .eos_token_id = c.eos});
      const auto yours = lesson08::greedy_decode(mine, c.batch, 0, c.eos, c.max_new_tokens);
      std::ostringstream input;
      input << "a fixed decoder of " << c.batch << " rows, V " << c.vocab << ", eos " << c.eos
            << ", max_new_tokens " << c.max_new_tokens << (c.levels ? ", tied log-probs" : "") << ", seed "
            << seed;
      REQUIRE(yours.size() == heeds.size());
      for (size_t b = 0; b < heeds.size(); ++b)
        testing::expect_true(8, 1, input.str(), yours[b] == heeds[b].tokens,
                             "source " + std::to_string(b) + ": expected " + ids_text(heeds[b].tokens) +
                                 ", computed " + ids_text(yours[b]));
    }
  }
  // A real model's decoder, sources of lengths 5, 3 and 1.
  for (uint64_t seed : {1u, 5u}) {
    course::Seq2Seq model = small_model(seed);
    for (int64_t eos : {2, 3}) {
      const auto heeds =
          nn::greedy_search(*model.make_decoder(kSources, kPadding), 3,
                            {.max_new_tokens = 8, .decoder_start_token_id = 1, .eos_token_id = eos});
      const auto yours = lesson08::greedy_decode(*model.make_decoder(kSources, kPadding), 3, 1, eos, 8);
      REQUIRE(yours.size() == heeds.size());
      for (size_t b = 0; b < heeds.size(); ++b)
        testing::expect_true(
            8, 1, "an untrained Seq2Seq (seed " + std::to_string(seed) + "), eos " + std::to_string(eos),
            yours[b] == heeds[b].tokens,
            "source " + std::to_string(b) + ": expected " + ids_text(heeds[b].tokens) + ", computed " +
                ids_text(yours[b]));
    }
  }
}

TEST_CASE("lesson 08, exercise 2: one beam-search step") {
  // One step by hand: beams "a" (log_prob -1) and "b" (-2), V = 4, eos 0, K = 2.
  //   a+v: -1 + (-0.1, -1.0, -3.0, -3.0)    b+v: -2 + (-0.5, -0.2, -4.0, -4.0)
  // ranked: a0 -1.1 (eos, rank 0: finished), b1 -2.2, a1 -2.0 ... so
  // a1 -2.0 (rank 1), b1 -2.2 (rank 2) run; b0 -2.5 would be eos at rank 3: dropped.
  {
    const std::vector<lesson08::Beam> beams{{{5}, -1.0}, {{6}, -2.0}};
    const Tensor lp = from_vector({-0.1f, -1.0f, -3.0f, -3.0f, -0.5f, -0.2f, -4.0f, -4.0f}, {2, 4});
    const lesson08::BeamStep s = lesson08::beam_step(beams, lp, 2, 0, 1.0);
    const std::string input = "beams {5} -1, {6} -2, V 4, eos 0, K 2, alpha 1";
    testing::expect_true(8, 2, input,
                         s.running.size() == 2 && s.running[0].tokens == std::vector<int64_t>{5, 1} &&
                             s.running[1].tokens == std::vector<int64_t>{6, 1},
                         "the runners should be {5 1} then {6 1}");
    testing::expect_true(8, 2, input, s.parents == std::vector<int64_t>{0, 1}, "parents should be {0, 1}");
    testing::expect_true(8, 2, input,
                         s.running.size() == 2 && std::fabs(s.running[0].log_prob - -2.0) < 1e-6 &&
                             std::fabs(s.running[1].log_prob - -2.2) < 1e-6,
                         "the runners' log_probs should be -2.0 and -2.2");
    testing::expect_true(8, 2, input,
                         s.finished.size() == 1 && s.finished[0].tokens == std::vector<int64_t>{5, 0} &&
                             s.scores.size() == 1 && std::fabs(s.scores[0] - -1.1 / 2) < 1e-6,
                         "one finished hypothesis, {5 0}, score -1.1 / 2^1 (b's eos at rank 3 is dropped)");
  }
  // Whole searches, beam_loop.h around your step, against nn::beam_search.
  struct Case {
    int64_t batch, vocab, beams, returned, eos, max_new_tokens;
    float alpha;
    int levels;
  };
  for (const Case c :
       {Case{1, 3, 1, 1, 2, 5, 1.0f, 0}, Case{2, 5, 2, 1, 2, 6, 1.0f, 0}, Case{3, 6, 3, 3, 0, 8, 0.6f, 0},
        Case{2, 4, 4, 2, 1, 9, 0.0f, 0}, Case{3, 17, 5, 2, 3, 7, 1.0f, 0}, Case{2, 5, 3, 1, 2, 6, 1.0f, 2},
        Case{2, 6, 3, 2, -1, 4, 1.0f, 3}, Case{4, 7, 2, 2, 2, 1, 0.5f, 0},
        Case{2, 3, 5, 5, 0, 6, -0.5f, 0}}) {
    for (uint64_t seed : {1u, 2u}) {
      const nn::BeamSearchOptions options{.num_beams = c.beams,
                                          .max_new_tokens = c.max_new_tokens,
                                          .decoder_start_token_id = 0,
                                          .eos_token_id = c.eos,
                                          .length_penalty = c.alpha,
                                          .num_return_sequences = c.returned};
      HashDecoder theirs(c.batch, c.vocab, seed, c.levels), mine(c.batch, c.vocab, seed, c.levels);
      const auto heeds = nn::beam_search(theirs, c.batch, options);
      const auto yours = lesson08::beam_search_with_your_step(mine, c.batch, options);
      std::ostringstream input;
      input << "a fixed decoder of " << c.batch << " sources, V " << c.vocab << ", K " << c.beams
            << ", num_return_sequences " << c.returned << ", eos " << c.eos << ", max_new_tokens "
            << c.max_new_tokens << ", alpha " << c.alpha << (c.levels ? ", tied log-probs" : "") << ", seed "
            << seed;
      REQUIRE(yours.size() == heeds.size());
      for (size_t b = 0; b < heeds.size(); ++b) {
        testing::expect_true(8, 2, input.str(), yours[b].size() == heeds[b].size(),
                             "source " + std::to_string(b) + ": expected " + std::to_string(heeds[b].size()) +
                                 " hypotheses, computed " + std::to_string(yours[b].size()));
        for (size_t k = 0; k < std::min(yours[b].size(), heeds[b].size()); ++k) {
          const nn::Hypothesis &e = heeds[b][k], &y = yours[b][k];
          testing::expect_true(8, 2, input.str(),
                               y.tokens == e.tokens && std::fabs(y.log_prob - e.log_prob) < 1e-6 &&
                                   std::fabs(y.score - e.score) < 1e-6,
                               "source " + std::to_string(b) + ", hypothesis " + std::to_string(k) +
                                   ": expected " + ids_text(e.tokens) + " (log_prob " +
                                   std::to_string(e.log_prob) + ", score " + std::to_string(e.score) +
                                   "), computed " + ids_text(y.tokens) + " (log_prob " +
                                   std::to_string(y.log_prob) + ", score " + std::to_string(y.score) + ")");
        }
      }
    }
  }
  // A real model's decoder.
  course::Seq2Seq model = small_model(4);
  const nn::BeamSearchOptions options{.num_beams = 3,
                                      .max_new_tokens = 7,
                                      .decoder_start_token_id = 1,
                                      .eos_token_id = 2,
                                      .num_return_sequences = 2};
  const auto heeds = nn::beam_search(*model.make_decoder(kSources, kPadding), 3, options);
  const auto yours =
      lesson08::beam_search_with_your_step(*model.make_decoder(kSources, kPadding), 3, options);
  for (size_t b = 0; b < heeds.size(); ++b)
    for (size_t k = 0; k < heeds[b].size(); ++k)
      testing::expect_true(8, 2, "an untrained Seq2Seq, K 3, 2-best",
                           yours.at(b).size() == heeds[b].size() && yours[b][k].tokens == heeds[b][k].tokens,
                           "source " + std::to_string(b) + ", hypothesis " + std::to_string(k) +
                               ": expected " + ids_text(heeds[b][k].tokens));
}

TEST_CASE("lesson 08, exercise 3: clipped n-grams and BLEU") {
  Generator gen(8);
  auto sentence = [&](int64_t length, int64_t vocab) {
    std::vector<int64_t> s;
    for (int64_t i = 0; i < length; ++i) s.push_back(gen.randint(vocab));
    return s;
  };
  // clipped_matches, one sentence at a time: nn::corpus_bleu of a one-sentence corpus.
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t vocab = 2 + trial % 4;
    const std::vector<int64_t> hypothesis = sentence(gen.randint(9), vocab);
    std::vector<std::vector<int64_t>> references;
    for (int64_t r = 0, R = 1 + gen.randint(3); r < R; ++r)
      references.push_back(sentence(1 + gen.randint(9), vocab));
    const nn::BleuScore heeds =
        nn::corpus_bleu(std::vector<std::vector<int64_t>>{hypothesis},
                        std::vector<std::vector<std::vector<int64_t>>>{references}, {.max_n = 5});
    for (int64_t n = 1; n <= 5; ++n) {
      const lesson08::NgramMatches m = lesson08::clipped_matches(hypothesis, references, n);
      std::string refs;
      for (const auto& r : references) refs.append(" ").append(ids_text(r));
      testing::expect_true(
          8, 3, "hypothesis " + ids_text(hypothesis) + ", references" + refs + ", n " + std::to_string(n),
          m.matches == heeds.matches[n - 1] && m.total == heeds.totals[n - 1],
          "expected " + std::to_string(heeds.matches[n - 1]) + " matches of " +
              std::to_string(heeds.totals[n - 1]) + ", computed " + std::to_string(m.matches) + " of " +
              std::to_string(m.total));
    }
  }
  // Corpus BLEU: outputs near their references (some cut short, some too
  // long, some changed), one to three references, max_n 1 to 4.
  for (int trial = 0; trial < 30; ++trial) {
    std::vector<std::vector<int64_t>> hypotheses;
    std::vector<std::vector<std::vector<int64_t>>> references;
    const int64_t sentences = 1 + gen.randint(12), max_n = 1 + trial % 4;
    for (int64_t i = 0; i < sentences; ++i) {
      std::vector<std::vector<int64_t>> refs;
      for (int64_t r = 0, R = 1 + gen.randint(3); r < R; ++r)
        refs.push_back(sentence(2 + gen.randint(10), 8));
      std::vector<int64_t> h = refs[0];
      for (int64_t& w : h)
        if (gen.uniform() < 0.15f) w = gen.randint(8);
      if (trial % 3 == 1) h.resize(h.size() / 2);
      if (trial % 3 == 2) h.push_back(gen.randint(8));
      hypotheses.push_back(h);
      references.push_back(refs);
    }
    const double heeds = nn::corpus_bleu(hypotheses, references, {.max_n = max_n}).score;
    const double yours = lesson08::bleu(hypotheses, references, max_n);
    testing::expect_close(8, 3,
                          std::to_string(sentences) + " random sentences, max_n " + std::to_string(max_n),
                          from_vector({float(heeds)}, {1}), from_vector({float(yours)}, {1}), 1e-6);
  }
  // Two references equally far from the hypothesis' 4 words: r takes the shorter (3), so BP = 1.
  {
    const std::vector<std::vector<int64_t>> hyps{{1, 2, 3, 4}};
    const std::vector<std::vector<std::vector<int64_t>>> tied{{{1, 2, 3, 4, 5}, {1, 2, 3}}};
    testing::expect_close(8, 3, "hypothesis {1 2 3 4}, references {1 2 3 4 5} {1 2 3}",
                          from_vector({float(nn::corpus_bleu(hyps, tied).score)}, {1}),
                          from_vector({float(lesson08::bleu(hyps, tied))}, {1}), 1e-6);
  }
  // Edge cases: nothing said (c = 0), no 4-gram matched, a perfect corpus.
  const std::vector<std::vector<std::vector<int64_t>>> refs{{{1, 2, 3, 4, 5}}, {{6, 7, 8}}};
  for (const std::vector<std::vector<int64_t>>& hyps : {std::vector<std::vector<int64_t>>{{}, {}},
                                                        {{1, 2, 3, 9, 5}, {6, 7, 9}},
                                                        {{1, 2, 3, 4, 5}, {6, 7, 8}}}) {
    const double heeds = nn::corpus_bleu(hyps, refs).score;
    testing::expect_close(8, 3, "hypotheses " + ids_text(hyps[0]) + " " + ids_text(hyps[1]),
                          from_vector({float(heeds)}, {1}),
                          from_vector({float(lesson08::bleu(hyps, refs))}, {1}), 1e-6);
  }
}

namespace {

// The plain loop exercise 4 is graded against.
lesson08::AlignmentCount naive_alignment(const Tensor& weights,
                                         const std::vector<std::vector<int>>& alignments) {
  lesson08::AlignmentCount c;
  for (int64_t b = 0; b < weights.size(0); ++b)
    for (int64_t t = 0; t < weights.size(1) && t < int64_t(alignments[b].size()); ++t) {
      if (alignments[b][t] < 0) continue;
      int64_t best = 0;
      for (int64_t s = 1; s < weights.size(2); ++s)
        if (weights.at({b, t, s}) > weights.at({b, t, best})) best = s;
      c.correct += best == alignments[b][t];
      ++c.total;
    }
  return c;
}

}  // namespace

TEST_CASE("lesson 08, exercise 4: alignment accuracy") {
  Generator gen(4);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t B = 1 + trial % 4, T = 1 + gen.randint(7), S = 1 + gen.randint(6);
    Tensor weights = softmax(randn({B, T, S}, gen), -1);
    if (trial % 3 == 1) {  // three levels only: ties, where the first maximum wins
      std::vector<float> levels;
      for (int64_t i = 0; i < B * T * S; ++i) levels.push_back(0.25f * float(gen.randint(3)));
      weights = from_vector(levels, {B, T, S});
    }
    if (trial % 3 == 2) weights = transpose(contiguous(transpose(weights, 1, 2)), 1, 2);  // strided
    std::vector<std::vector<int>> alignments(static_cast<size_t>(B));
    for (auto& a : alignments) {
      const int64_t words = gen.randint(T + 1);  // rows past the sentence (eos, padding) do not count
      for (int64_t t = 0; t < words; ++t) a.push_back(gen.uniform() < 0.2f ? -1 : int(gen.randint(S)));
    }
    const lesson08::AlignmentCount expected = naive_alignment(weights, alignments),
                                   yours = lesson08::alignment_accuracy(weights, alignments);
    std::ostringstream input;
    input << "weights " << weights.shape()
          << (trial % 3 == 1   ? " with ties"
              : trial % 3 == 2 ? " strided"
                               : "");
    testing::expect_true(
        8, 4, input.str(), yours.correct == expected.correct && yours.total == expected.total,
        "expected " + std::to_string(expected.correct) + " of " + std::to_string(expected.total) +
            ", computed " + std::to_string(yours.correct) + " of " + std::to_string(yours.total));
  }
}
