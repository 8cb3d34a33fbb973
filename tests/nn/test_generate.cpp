// Greedy and beam search (nn/generate.h), on decoders whose every sequence
// probability is known, so a brute-force enumeration gives the true optimum,
// and on the GRU encoder-decoders with attention of attention_tasks.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "tests/nn/attention_tasks.h"

using namespace heed;

namespace {

// p(next symbol | source, generated history): what a test decoder returns and
// the brute force enumerates. Returns V probabilities.
using Model = std::function<std::vector<double>(int64_t source, const std::vector<int64_t>& history)>;

std::vector<float> log_probs(const Model& model, int64_t source, const std::vector<int64_t>& history) {
  std::vector<float> lp;
  for (double p : model(source, history)) lp.push_back(float(std::log(p)));
  return lp;
}

// Every (source, history) its own distribution over V symbols, from a hash:
// no two sequences tie, and sequences diverge the way a real model's do.
Model hashed_model(uint64_t seed, int64_t V) {
  return [=](int64_t source, const std::vector<int64_t>& history) {
    uint64_t h = seed * 0x9E3779B97F4A7C15ull + uint64_t(source) * 0xBF58476D1CE4E5B9ull;
    for (int64_t s : history) h = (h ^ uint64_t(s + 1)) * 0x100000001B3ull + 0x94D049BB133111EBull;
    std::vector<double> p(V);
    double z = 0;
    for (int64_t v = 0; v < V; ++v) {
      uint64_t x = h + uint64_t(v) * 0x9E3779B97F4A7C15ull;
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
      x ^= x >> 31;
      z += p[v] = std::exp(4.0 * double(x >> 11) * 0x1.0p-53);
    }
    for (double& q : p) q /= z;
    return p;
  };
}

// Distributions written out by hand for some histories, uniform elsewhere.
Model table_model(int64_t V, std::map<std::vector<int64_t>, std::vector<double>> table) {
  return [=](int64_t, const std::vector<int64_t>& history) {
    auto at = table.find(history);
    return at != table.end() ? at->second : std::vector<double>(V, 1.0 / double(V));
  };
}

// A Decoder over a Model: row r carries its source and the symbols it was fed.
// It records how many rows every step() saw.
class ModelDecoder : public nn::Decoder {
 public:
  ModelDecoder(Model model, std::vector<int64_t> sources, int64_t start) : model_(std::move(model)) {
    for (int64_t s : sources) rows_.push_back({s, {}});
    start_ = start;
  }
  Tensor step(const Tensor& last) override {
    const int64_t N = int64_t(rows_.size());
    REQUIRE(last.dim() == 1);
    REQUIRE(last.size(0) == N);
    std::vector<float> out;
    for (int64_t r = 0; r < N; ++r) {
      const int64_t symbol = int64_t(last.at({r}));
      if (step_ == 0)
        CHECK(symbol == start_);
      else
        rows_[r].history.push_back(symbol);
      std::vector<float> lp = log_probs(model_, rows_[r].source, rows_[r].history);
      out.insert(out.end(), lp.begin(), lp.end());
    }
    ++step_;
    rows_per_step.push_back(N);
    return from_vector(out, {N, int64_t(out.size()) / std::max<int64_t>(N, 1)});
  }
  void reorder(const std::vector<int64_t>& rows) override {
    std::vector<Row> kept;
    for (int64_t r : rows) kept.push_back(rows_.at(r));
    rows_ = std::move(kept);
  }
  std::vector<int64_t> rows_per_step;

 private:
  struct Row {
    int64_t source;
    std::vector<int64_t> history;
  };
  Model model_;
  std::vector<Row> rows_;
  int64_t start_ = 0, step_ = 0;
};

double penalized(double log_prob, size_t length, double alpha) {
  return alpha == 0 ? log_prob : log_prob / std::pow(double(length), alpha);
}

// Every sequence the search may return (ended by eos, or max_len symbols
// long), best score first; log-probs summed in the order a search sums them.
std::vector<nn::Hypothesis> enumerate(const Model& model, int64_t source, int64_t eos, int64_t max_len,
                                      double alpha) {
  std::vector<nn::Hypothesis> all;
  std::function<void(std::vector<int64_t>&, double)> grow = [&](std::vector<int64_t>& prefix, double lp) {
    std::vector<float> next = log_probs(model, source, prefix);
    for (int64_t v = 0; v < int64_t(next.size()); ++v) {
      prefix.push_back(v);
      const double s = lp + next[v];
      if (v == eos || int64_t(prefix.size()) == max_len)
        all.push_back({prefix, s, penalized(s, prefix.size(), alpha)});
      else
        grow(prefix, s);
      prefix.pop_back();
    }
  };
  std::vector<int64_t> prefix;
  grow(prefix, 0.0);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.score > b.score; });
  return all;
}

// Greedy decoding written the obvious way, one source at a time.
nn::Hypothesis greedy_by_hand(const Model& model, int64_t source, int64_t eos, int64_t max_len) {
  nn::Hypothesis h;
  while (int64_t(h.tokens.size()) < max_len) {
    std::vector<float> lp = log_probs(model, source, h.tokens);
    const int64_t best = std::max_element(lp.begin(), lp.end()) - lp.begin();
    h.tokens.push_back(best);
    h.log_prob += lp[best];
    if (best == eos) break;
  }
  h.score = h.log_prob;
  return h;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

void check_same(const nn::Hypothesis& a, const nn::Hypothesis& b) {
  CHECK(a.tokens == b.tokens);
  CHECK(a.log_prob == doctest::Approx(b.log_prob).epsilon(1e-12));
  CHECK(a.score == doctest::Approx(b.score).epsilon(1e-12));
}

constexpr int64_t kStart = 7;  // outside [0, V): the start symbol is only ever an input

}  // namespace

TEST_CASE(
    "greedy_search takes the first most likely symbol at every step, eos included, and drops finished rows") {
  const int64_t V = 3, eos = 2, B = 5, max_len = 6;
  Model model = hashed_model(1, V);
  ModelDecoder decoder(model, iota(B), kStart);
  std::vector<nn::Hypothesis> got = nn::greedy_search(
      decoder, B, {.max_new_tokens = max_len, .decoder_start_token_id = kStart, .eos_token_id = eos});
  REQUIRE(got.size() == size_t(B));
  int64_t ended_by_eos = 0;
  for (int64_t b = 0; b < B; ++b) {
    check_same(got[b], greedy_by_hand(model, b, eos, max_len));
    ended_by_eos += got[b].tokens.back() == eos;
  }
  CHECK(ended_by_eos > 0);  // the seed makes some rows finish early
  CHECK(decoder.rows_per_step.front() == B);
  for (size_t t = 0; t < decoder.rows_per_step.size(); ++t) {  // rows alive at step t: those not yet ended
    int64_t alive = 0;
    for (const nn::Hypothesis& h : got) alive += int64_t(h.tokens.size()) > int64_t(t);
    CHECK(decoder.rows_per_step[t] == alive);
  }
}

TEST_CASE("beam_search with num_beams = 1 equals greedy_search") {
  const int64_t V = 4, B = 6, max_len = 7;
  for (int64_t eos : {-1, 0, 3})
    for (float alpha : {0.0f, 1.0f}) {
      if (eos >= 0 && alpha != 0) continue;  // with alpha > 0 one beam may outlive a greedy eos (generate.h)
      CAPTURE(eos);
      CAPTURE(alpha);
      Model model = hashed_model(2, V);
      ModelDecoder g(model, iota(B), kStart), b(model, iota(B), kStart);
      auto greedy = nn::greedy_search(
          g, B, {.max_new_tokens = max_len, .decoder_start_token_id = kStart, .eos_token_id = eos});
      auto beam = nn::beam_search(b, B,
                                  {.num_beams = 1,
                                   .max_new_tokens = max_len,
                                   .decoder_start_token_id = kStart,
                                   .eos_token_id = eos,
                                   .length_penalty = alpha});
      for (int64_t s = 0; s < B; ++s) {
        REQUIRE(beam[s].size() == 1);
        CHECK(beam[s][0].tokens == greedy[s].tokens);
        CHECK(beam[s][0].log_prob == doctest::Approx(greedy[s].log_prob).epsilon(1e-12));
      }
      CHECK(b.rows_per_step.size() == g.rows_per_step.size());
    }
}

TEST_CASE(
    "beam_search wide enough to keep every prefix returns the brute-force n-best, for any length penalty") {
  // V = 3 with eos: at most 2^4 running prefixes and 48 candidates a step, all kept by a beam of 64.
  const int64_t V = 3, eos = 1, max_len = 5, B = 3;
  for (float alpha : {0.0f, 0.5f, 1.0f, 2.0f, -0.5f}) {
    CAPTURE(alpha);
    Model model = hashed_model(3, V);
    ModelDecoder decoder(model, iota(B), kStart);
    auto got = nn::beam_search(decoder, B,
                               {.num_beams = 64,
                                .max_new_tokens = max_len,
                                .decoder_start_token_id = kStart,
                                .eos_token_id = eos,
                                .length_penalty = alpha,
                                .num_return_sequences = 5});
    for (int64_t s = 0; s < B; ++s) {
      std::vector<nn::Hypothesis> truth = enumerate(model, s, eos, max_len, alpha);
      REQUIRE(got[s].size() == 5);
      for (size_t i = 0; i < 5; ++i) check_same(got[s][i], truth[i]);
    }
  }
  // Without eos every sequence has max_len symbols: 3^4 = 81 of them.
  Model model = hashed_model(4, V);
  ModelDecoder decoder(model, {0}, kStart);
  auto got = nn::beam_search(
      decoder, 1,
      {.num_beams = 27, .max_new_tokens = 4, .decoder_start_token_id = kStart, .num_return_sequences = 27});
  std::vector<nn::Hypothesis> truth = enumerate(model, 0, -1, 4, 1.0);
  REQUIRE(got[0].size() == 27);
  for (size_t i = 0; i < 27; ++i) check_same(got[0][i], truth[i]);
}

TEST_CASE("beam_search of width 2 finds a sequence that greedy_search misses") {
  // Symbols a = 0, b = 1, eos = 2.
  //   p(a) = 0.5, p(b) = 0.4, p(eos) = 0.1;  p(. | a) = (0.3, 0.3, 0.4);  p(. | b) = (0.05, 0.05, 0.9)
  // Greedy takes a (0.5), then eos (0.4):      a eos  with p = 0.5 * 0.4 = 0.20.
  // Beam 2 keeps {a, b}; its candidates are b eos 0.36, a eos 0.20, a a 0.15, a b 0.15, b a 0.02, b b 0.02:
  // both eos ones finish, and a running 0.15 cannot beat 0.36:  b eos  with p = 0.4 * 0.9 = 0.36.
  Model model = table_model(3, {{{}, {0.5, 0.4, 0.1}}, {{0}, {0.3, 0.3, 0.4}}, {{1}, {0.05, 0.05, 0.9}}});
  ModelDecoder g(model, {0}, kStart), b(model, {0}, kStart);
  auto greedy =
      nn::greedy_search(g, 1, {.max_new_tokens = 3, .decoder_start_token_id = kStart, .eos_token_id = 2});
  auto beam = nn::beam_search(b, 1,
                              {.num_beams = 2,
                               .max_new_tokens = 3,
                               .decoder_start_token_id = kStart,
                               .eos_token_id = 2,
                               .length_penalty = 0.0f});
  CHECK(greedy[0].tokens == std::vector<int64_t>{0, 2});
  CHECK(greedy[0].log_prob == doctest::Approx(std::log(0.20)).epsilon(1e-6));
  CHECK(beam[0][0].tokens == std::vector<int64_t>{1, 2});
  CHECK(beam[0][0].log_prob == doctest::Approx(std::log(0.36)).epsilon(1e-6));
  CHECK(b.rows_per_step == std::vector<int64_t>{1, 2});  // it stopped after the second step
}

TEST_CASE(
    "length_penalty: alpha = 0 prefers a short sequence, alpha = 1 a longer one of higher mean log-prob") {
  // a = 0, b = 1, eos = 2, at most 3 symbols.
  //   p(a) = 0.45, p(b) = 0.05, p(eos) = 0.5;  p(. | a) = (0.6, 0.3, 0.1);  p(. | a a) = (0.2, 0.2, 0.6)
  //   eos:        log 0.5                    = -0.693;  / 1 = -0.693
  //   a a eos:    log(0.45 * 0.6 * 0.6)      = -1.820;  / 3 = -0.607
  //   a a a:      log(0.45 * 0.6 * 0.2)      = -2.919;  / 3 = -0.973   (the others are lower still)
  // so alpha = 0 picks eos (what greedy does too), alpha = 1 picks a a eos.
  Model model = table_model(3, {{{}, {0.45, 0.05, 0.5}}, {{0}, {0.6, 0.3, 0.1}}, {{0, 0}, {0.2, 0.2, 0.6}}});
  for (float alpha : {0.0f, 1.0f}) {
    ModelDecoder decoder(model, {0}, kStart);
    auto got = nn::beam_search(decoder, 1,
                               {.num_beams = 2,
                                .max_new_tokens = 3,
                                .decoder_start_token_id = kStart,
                                .eos_token_id = 2,
                                .length_penalty = alpha});
    const auto expected = alpha == 0 ? std::vector<int64_t>{2} : std::vector<int64_t>{0, 0, 2};
    CHECK(got[0][0].tokens == expected);
    CHECK(got[0][0].tokens == enumerate(model, 0, 2, 3, alpha)[0].tokens);
    CHECK(got[0][0].score ==
          doctest::Approx(alpha == 0 ? std::log(0.5) : std::log(0.45 * 0.6 * 0.6) / 3).epsilon(1e-6));
  }
  ModelDecoder g(model, {0}, kStart);
  CHECK(nn::greedy_search(g, 1, {.max_new_tokens = 3, .decoder_start_token_id = kStart, .eos_token_id = 2})[0]
            .tokens == std::vector<int64_t>{2});
}

TEST_CASE("eos ends a hypothesis and is its last symbol; max_new_tokens ends the others, without eos") {
  SUBCASE("no eos: every hypothesis is max_new_tokens long") {
    Model model = hashed_model(5, 4);
    ModelDecoder g(model, iota(3), kStart), b(model, iota(3), kStart);
    for (const auto& h : nn::greedy_search(g, 3, {.max_new_tokens = 5, .decoder_start_token_id = kStart}))
      CHECK(h.tokens.size() == 5);
    for (const auto& nbest : nn::beam_search(b, 3,
                                             {.num_beams = 3,
                                             .max_new_tokens = 5,
                                             .decoder_start_token_id = kStart,
                                             .num_return_sequences = 3}))
      for (const auto& h : nbest) CHECK(h.tokens.size() == 5);
    CHECK(g.rows_per_step.size() == 5);
    CHECK(b.rows_per_step.size() == 5);
  }
  SUBCASE("with eos: it appears only last, or the hypothesis is max_new_tokens long") {
    Model model = hashed_model(6, 3);
    ModelDecoder b(model, iota(4), kStart);
    for (const auto& nbest : nn::beam_search(b, 4,
                                             {.num_beams = 4,
                                             .max_new_tokens = 6,
                                             .decoder_start_token_id = kStart,
                                             .eos_token_id = 0,
                                             .length_penalty = 0.5f,
                                             .num_return_sequences = 4}))
      for (const auto& h : nbest) {
        CHECK(std::count(h.tokens.begin(), h.tokens.end(), 0) == (h.tokens.back() == 0));
        CHECK((h.tokens.back() == 0 || h.tokens.size() == 6));
      }
  }
  SUBCASE("a near-certain eos at the second symbol stops both searches there, long before max_new_tokens") {
    // p(.) = (0.4, 0.5, 0.1) at the first step, (0.01, 0.01, 0.98) at the second: best is  b eos.
    Model model = [](int64_t, const std::vector<int64_t>& history) {
      return history.size() == 1 ? std::vector<double>{0.01, 0.01, 0.98} : std::vector<double>{0.4, 0.5, 0.1};
    };
    ModelDecoder g(model, {0}, kStart), b(model, {0}, kStart);
    auto greedy =
        nn::greedy_search(g, 1, {.max_new_tokens = 10, .decoder_start_token_id = kStart, .eos_token_id = 2});
    auto beam = nn::beam_search(b, 1,
                                {.num_beams = 3,
                                 .max_new_tokens = 10,
                                 .decoder_start_token_id = kStart,
                                 .eos_token_id = 2,
                                 .length_penalty = 0.0f});
    CHECK(greedy[0].tokens == std::vector<int64_t>{1, 2});
    CHECK(beam[0][0].tokens == std::vector<int64_t>{1, 2});
    CHECK(g.rows_per_step.size() == 2);
    CHECK(b.rows_per_step.size() == 2);
  }
}

TEST_CASE("batched greedy and beam search equal decoding each source alone") {
  const int64_t V = 4, B = 5;
  Model model = hashed_model(7, V);
  const nn::BeamSearchOptions options{.num_beams = 3,
                                      .max_new_tokens = 8,
                                      .decoder_start_token_id = kStart,
                                      .eos_token_id = 2,
                                      .length_penalty = 0.75f,
                                      .num_return_sequences = 2};
  ModelDecoder batched(model, iota(B), kStart), greedy_batched(model, iota(B), kStart);
  auto all = nn::beam_search(batched, B, options);
  auto all_greedy = nn::greedy_search(
      greedy_batched, B, {.max_new_tokens = 8, .decoder_start_token_id = kStart, .eos_token_id = 2});
  for (int64_t s = 0; s < B; ++s) {
    ModelDecoder alone(model, {s}, kStart), greedy_alone(model, {s}, kStart);
    auto one = nn::beam_search(alone, 1, options);
    REQUIRE(one[0].size() == all[s].size());
    for (size_t i = 0; i < one[0].size(); ++i) check_same(all[s][i], one[0][i]);
    check_same(
        all_greedy[s],
        nn::greedy_search(greedy_alone, 1,
                          {.max_new_tokens = 8, .decoder_start_token_id = kStart, .eos_token_id = 2})[0]);
  }
  // One step() call per step for the whole batch, one row per source first, at most B * K rows after.
  CHECK(batched.rows_per_step.front() == B);
  for (int64_t n : batched.rows_per_step) CHECK(n <= B * options.num_beams);
  CHECK(batched.rows_per_step.size() <= size_t(options.max_new_tokens));
}

TEST_CASE("greedy_search and beam_search reject bad options and bad decoders with a clear heed::Error") {
  Model model = hashed_model(8, 3);
  auto beam = [&](nn::BeamSearchOptions o) {
    ModelDecoder d(model, iota(2), o.decoder_start_token_id);
    return nn::beam_search(d, 2, o);
  };
  CHECK_THROWS_WITH_AS(beam({.num_beams = 0}),
                       doctest::Contains("beam_search: num_beams must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(beam({.max_new_tokens = 0}),
                       doctest::Contains("beam_search: max_new_tokens must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(beam({.num_beams = 2, .num_return_sequences = 3}),
                       doctest::Contains("num_return_sequences must be in [1, num_beams = 2], got 3"), Error);
  CHECK_THROWS_WITH_AS(beam({.length_penalty = std::nanf("")}),
                       doctest::Contains("length_penalty must be finite"), Error);
  CHECK_THROWS_WITH_AS(beam({.eos_token_id = 3}),
                       doctest::Contains("eos_token_id 3 is not a symbol of the decoder's 3"), Error);
  CHECK_THROWS_WITH_AS(beam({.eos_token_id = -2}), doctest::Contains("eos_token_id must be a symbol or -1"),
                       Error);
  CHECK_THROWS_WITH_AS(beam({.decoder_start_token_id = -1}),
                       doctest::Contains("decoder_start_token_id must be >= 0, got -1"), Error);
  ModelDecoder d(model, iota(2), kStart);
  CHECK_THROWS_WITH_AS(nn::greedy_search(d, -1, {}),
                       doctest::Contains("greedy_search: batch must be >= 0, got -1"), Error);
  CHECK_THROWS_WITH_AS(nn::greedy_search(d, 2, {.max_new_tokens = -3}),
                       doctest::Contains("greedy_search: max_new_tokens must be >= 1, got -3"), Error);

  struct TwoRows : nn::Decoder {  // whatever it is fed
    Tensor step(const Tensor&) override { return zeros({2, 3}); }
    void reorder(const std::vector<int64_t>&) override {}
  } two_rows;
  CHECK_THROWS_WITH_AS(nn::beam_search(two_rows, 3, {}),
                       doctest::Contains("beam_search: Decoder::step must give log-probs (N, V) with N = 3 "
                                         "hypotheses, got (2, 3)"),
                       Error);

  struct NaNDecoder : nn::Decoder {
    Tensor step(const Tensor& last) override {
      Tensor lp = zeros({last.size(0), 4});
      lp.at({0, 2}) = std::nanf("");
      return lp;
    }
    void reorder(const std::vector<int64_t>&) override {}
  } nan_decoder;
  CHECK_THROWS_WITH_AS(nn::greedy_search(nan_decoder, 1, {}),
                       doctest::Contains("greedy_search: Decoder::step gave NaN at hypothesis 0, symbol 2"),
                       Error);
  CHECK(nn::greedy_search(nan_decoder, 0, {}).empty());  // no source: no step
}

// ------------------------------------------------------------- the RNN encoder-decoders

namespace {

constexpr tasks::Attender kAttenders[] = {tasks::Attender::bahdanau, tasks::Attender::luong_dot,
                                          tasks::Attender::luong_general, tasks::Attender::multi_head};

Tensor random_sources(int64_t B, int64_t S, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> ids(B * S);
  for (float& x : ids) x = float(gen.randint(10));
  return from_vector(ids, {B, S});
}

}  // namespace

TEST_CASE(
    "greedy_search over AttentionSeq2Seq's Decoder equals its decode(), and so does beam_search of width 1") {
  const int64_t B = 4, T = 9;
  for (tasks::Attender kind : kAttenders) {
    CAPTURE(std::string(tasks::name_of(kind)));
    tasks::AttentionSeq2Seq model(kind, {}, /*seed=*/11);
    Tensor source = random_sources(B, 7, 12);
    Tensor expected = model.decode(source, T);
    auto decoder = model.make_decoder(source);
    auto greedy =
        nn::greedy_search(*decoder, B, {.max_new_tokens = T, .decoder_start_token_id = model.sizes.vocab});
    CHECK(equal(nn::to_tensor(greedy, -1), expected));
    auto beam_decoder = model.make_decoder(source);
    auto beam = nn::beam_search(
        *beam_decoder, B, {.num_beams = 1, .max_new_tokens = T, .decoder_start_token_id = model.sizes.vocab});
    for (int64_t b = 0; b < B; ++b) {
      CHECK(beam[b][0].tokens == greedy[b].tokens);
      CHECK(beam[b][0].log_prob == doctest::Approx(greedy[b].log_prob).epsilon(1e-9));
    }
  }
}

TEST_CASE(
    "beam_search on AttentionSeq2Seq: each returned sequence's log_prob is its teacher-forced "
    "log-probability, "
    "and batched equals alone") {
  const int64_t B = 3, T = 6, K = 3;
  for (tasks::Attender kind : kAttenders) {
    CAPTURE(std::string(tasks::name_of(kind)));
    tasks::AttentionSeq2Seq model(kind, {}, /*seed=*/13);
    Tensor source = random_sources(B, 5, 14);
    const nn::BeamSearchOptions options{.num_beams = K,
                                        .max_new_tokens = T,
                                        .decoder_start_token_id = model.sizes.vocab,
                                        .eos_token_id = 0,
                                        .length_penalty = 1.0f,
                                        .num_return_sequences = K};
    auto decoder = model.make_decoder(source);
    auto nbest = nn::beam_search(*decoder, B, options);
    NoGradGuard no_grad;
    for (int64_t b = 0; b < B; ++b) {
      REQUIRE(nbest[b].size() == size_t(K));
      Tensor one = narrow(source, 0, b, 1);
      auto alone_decoder = model.make_decoder(one);
      auto alone = nn::beam_search(*alone_decoder, 1, options);
      for (int64_t i = 0; i < K; ++i) {
        const nn::Hypothesis& h = nbest[b][i];
        if (i > 0) CHECK(h.score <= nbest[b][i - 1].score);
        // log p(y | x) by the teacher-forced forward: sum_t log_softmax(logits_t)[y_t]
        const int64_t L = int64_t(h.tokens.size());
        Tensor target = nn::to_tensor({h}, 0);
        Tensor lp = log_softmax(model.forward(one, target).value(), -1);  // (1, L, V)
        double sum = 0;
        for (int64_t t = 0; t < L; ++t) sum += lp.at({0, t, h.tokens[t]});
        CHECK(h.log_prob == doctest::Approx(sum).epsilon(1e-4));
        CHECK(h.score == doctest::Approx(h.log_prob / double(L)).epsilon(1e-9));
        CHECK(alone[0][i].tokens == h.tokens);
        CHECK(alone[0][i].log_prob == doctest::Approx(h.log_prob).epsilon(1e-4));
      }
    }
  }
}
