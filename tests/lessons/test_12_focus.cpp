#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/12_focus/exercises.h"
#include "lessons/common/exercise.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// (B, S): 1 at the padded tail of each sequence.
Tensor padding_of(const std::vector<int64_t>& lengths, int64_t S) { return nn::key_padding_mask(lengths, S); }

std::string lengths_text(const std::vector<int64_t>& lengths) {
  std::ostringstream text;
  text << "lengths {";
  for (size_t i = 0; i < lengths.size(); ++i) text << (i ? ", " : "") << lengths[i];
  text << "}";
  return text.str();
}

}  // namespace

TEST_CASE("lesson 12, exercise 1: the focus window") {
  struct Case {
    int64_t B, T, S, D, H;
    std::vector<int64_t> lengths;  // of the keys; empty: no padding
  };
  for (const Case& c : {Case{2, 5, 5, 8, 2, {5, 3}}, Case{1, 4, 4, 6, 3, {}}, Case{3, 3, 7, 8, 2, {7, 1, 4}},
                        Case{2, 1, 1, 4, 1, {}}}) {
    // The library's layer, and the q, k and logits it makes inside, from its public parameters.
    nn::FocusAttention layer({.embed_dim = c.D, .num_heads = c.H, .sigma_min = 0.75f, .seed = 7});
    Generator gen(11);
    Variable query(randn({c.B, c.T, c.D}, gen)), key(randn({c.B, c.S, c.D}, gen));
    const Tensor padding = c.lengths.empty() ? Tensor() : padding_of(c.lengths, c.S);
    nn::FocusAttentionOutput heeds = layer.forward(query, key, key, padding);
    const int64_t Dh = c.D / c.H;
    Variable q = detail::split_heads(layer.q_proj->forward(query), c.H);
    Variable k = detail::split_heads(layer.k_proj->forward(key), c.H);
    auto per_head = [&](const Variable& w, const Variable& b) {
      return sum(q * reshape(w, {1, c.H, 1, Dh}), {3}) + reshape(b, {1, c.H, 1});
    };
    lesson12::FocusWindow yours =
        lesson12::focus_window(q, k, per_head(layer.mu_weight, layer.mu_bias),
                               per_head(layer.sigma_weight, layer.sigma_bias), padding, 0.75f);
    const std::string input = "FocusAttention D " + std::to_string(c.D) + ", H " + std::to_string(c.H) +
                              ", T " + std::to_string(c.T) + ", S " + std::to_string(c.S) + ", " +
                              (c.lengths.empty() ? std::string("no padding") : lengths_text(c.lengths));
    testing::expect_close(12, 1, input + " (mu)", heeds.mu.value(), yours.mu.value());
    testing::expect_close(12, 1, input + " (sigma)", heeds.sigma.value(), yours.sigma.value());
    testing::expect_close(12, 1, input + " (weights)", heeds.weights.value(), yours.weights.value());
  }

  // Gradients reach q, k and both logits.
  const std::vector<int64_t> lengths = {5, 2};
  const Tensor padding = padding_of(lengths, 5);
  Generator gen(3);
  testing::expect_gradcheck(
      12, 1, "q (2, 2, 3, 4), k (2, 2, 5, 4), logits (2, 2, 3), " + lengths_text(lengths),
      [&](const std::vector<Variable>& v) {
        lesson12::FocusWindow w = lesson12::focus_window(v[0], v[1], v[2], v[3], padding, 0.5f);
        return cat({flatten(w.weights), flatten(w.mu), flatten(w.sigma)}, 0);
      },
      {randn({2, 2, 3, 4}, gen), randn({2, 2, 5, 4}, gen), randn({2, 2, 3}, gen), randn({2, 2, 3}, gen)});

  // Saturated logits: the window stays finite (softplus of 100 is 100, not inf).
  Tensor q = randn({1, 1, 2, 4}, gen), k = randn({1, 1, 6, 4}, gen);
  Tensor big = from_vector({100.0f, -100.0f}, {1, 1, 2});
  lesson12::FocusWindow w =
      lesson12::focus_window(Variable(q), Variable(k), Variable(big), Variable(big), Tensor(), 0.5f);
  const Tensor row_sums = sum(w.weights.value(), {3});
  testing::expect_close(12, 1, "logits +-100 (rows sum to 1)", ones({1, 1, 2}), row_sums);
  testing::expect_close(12, 1, "logits +-100 (sigma)", from_vector({100.5f, 0.5f}, {1, 1, 2}),
                        w.sigma.value(), 1e-4);
}

namespace {

// The definition, spelled out on a confusion matrix: counts[truth][guess].
double naive_macro_f1(const std::vector<int64_t>& guesses, const std::vector<int64_t>& truths,
                      int64_t classes) {
  std::vector<std::vector<int64_t>> counts(classes, std::vector<int64_t>(classes, 0));
  for (size_t i = 0; i < guesses.size(); ++i) ++counts[truths[i]][guesses[i]];
  double total = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < classes; ++c) {
    int64_t predicted = 0, actual = 0;
    for (int64_t o = 0; o < classes; ++o) predicted += counts[o][c], actual += counts[c][o];
    if (predicted + actual == 0) continue;
    total += 2.0 * double(counts[c][c]) / double(predicted + actual);
    ++present;
  }
  return present ? total / double(present) : 0.0;
}

Tensor ids_tensor(const std::vector<int64_t>& ids) {
  return from_vector(std::vector<float>(ids.begin(), ids.end()), {int64_t(ids.size())});
}

}  // namespace

TEST_CASE("lesson 12, exercise 2: macro-F1") {
  struct Case {
    std::vector<int64_t> guesses, truths;
    int64_t classes;
    double expected;
    const char* what;
  };
  const Case cases[] = {
      {{0, 1, 1, 0}, {0, 1, 1, 0}, 2, 1.0, "all right"},
      {{0, 0, 0, 0}, {0, 1, 0, 1}, 2, 1.0 / 3.0, "always 0 on balanced labels"},
      {{0, 1, 0, 0}, {0, 1, 1, 0}, 3, (0.8 + 2.0 / 3.0) / 2.0, "class 2 in neither: left out"},
      {{2, 0, 1}, {0, 0, 1}, 3, (2.0 / 3.0 + 1.0 + 0.0) / 3.0, "class 2 predicted, never true"},
      {{1}, {0}, 2, 0.0, "one item, wrong"},
  };
  for (const Case& c : cases) {
    const double yours = lesson12::macro_f1(ids_tensor(c.guesses), ids_tensor(c.truths), c.classes);
    testing::expect_close(12, 2, c.what, scalar(float(c.expected)), scalar(float(yours)), 1e-6);
  }
  Generator gen(5);
  for (int64_t n : {1, 3, 17, 63, 65}) {
    for (int64_t classes : {2, 3, 5}) {
      std::vector<int64_t> guesses(n), truths(n);
      for (int64_t i = 0; i < n; ++i) {
        truths[i] = gen.randint(classes);
        guesses[i] = gen.uniform() < 0.6f ? truths[i] : gen.randint(classes);
      }
      const double yours = lesson12::macro_f1(ids_tensor(guesses), ids_tensor(truths), classes);
      testing::expect_close(
          12, 2, std::to_string(n) + " random items, " + std::to_string(classes) + " classes",
          scalar(float(naive_macro_f1(guesses, truths, classes))), scalar(float(yours)), 1e-6);
    }
  }
  testing::expect_true(
      12, 2, "predictions (3,), labels (2,)",
      [] {
        try {
          lesson12::macro_f1(zeros({3}), zeros({2}), 2);
        } catch (const NotImplemented&) {
          throw;
        } catch (const Error&) {
          return true;
        }
        return false;
      }(),
      "shapes that differ must throw heed::Error");
  testing::expect_true(
      12, 2, "a label 2 with classes = 2",
      [] {
        try {
          lesson12::macro_f1(zeros({2}), from_vector({0.0f, 2.0f}, {2}), 2);
        } catch (const NotImplemented&) {
          throw;
        } catch (const Error&) {
          return true;
        }
        return false;
      }(),
      "a class id outside [0, classes) must throw heed::Error");
}

TEST_CASE("lesson 12, exercise 3: the masked mean") {
  // FocusLSTM's logits are its classifier on the masked mean of the attention's output.
  nn::FocusLSTM model({.vocab_size = 10, .hidden_size = 8, .num_heads = 2, .seed = 5});
  const std::vector<int64_t> lengths = {6, 4, 1};
  const Tensor padding = padding_of(lengths, 6);
  Generator gen(9);
  Tensor ids = zeros({3, 6});
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data()[i] = float(1 + gen.randint(9));
  nn::FocusLSTMOutput heeds = model.forward(ids, padding);
  Variable pooled = lesson12::masked_mean(heeds.attention.output, padding);
  testing::expect_close(12, 3, "FocusLSTM ids (3, 6), " + lengths_text(lengths) + " (logits)",
                        heeds.logits.value(), model.classifier->forward(pooled).value());

  // Padded positions never reach the mean and get no gradient; an empty row is zeros.
  const std::vector<int64_t> lengths2 = {3, 0, 5};
  const Tensor padding2 = padding_of(lengths2, 5);
  Tensor h = randn({3, 5, 4}, gen);
  Tensor loud = where(unsqueeze(padding2, 2), full({1}, 1e6f), h);
  Tensor expected = zeros({3, 4});
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t d = 0; d < 4; ++d) {
      double total = 0;
      for (int64_t t = 0; t < lengths2[b]; ++t) total += h.at({b, t, d});
      expected.at({b, d}) = lengths2[b] ? float(total / double(lengths2[b])) : 0.0f;
    }
  Variable x(loud, true);
  Variable yours = lesson12::masked_mean(x, padding2);
  testing::expect_close(12, 3, "h (3, 5, 4) with 1e6 at padding, " + lengths_text(lengths2), expected,
                        yours.value());
  sum(yours * Variable(randn({3, 4}, gen))).backward();
  testing::expect_close(12, 3, "gradient at padded positions, " + lengths_text(lengths2), zeros({3, 5, 1}),
                        sum(abs(x.grad()) * unsqueeze(padding2, 2), {2}, true));
  testing::expect_gradcheck(
      12, 3, "h (3, 5, 4), " + lengths_text(lengths2),
      [&](const std::vector<Variable>& v) { return lesson12::masked_mean(v[0], padding2); }, {h});
}
