// Lesson 05's exercises, graded: the GRU step against nn::GRUCell and by
// gradcheck, the teacher-forced loop against Seq2Seq::forward, and exact-match
// accuracy against a count written out here.
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <utility>

#include "lessons/05_rnn/exercises.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

std::string sizes(int64_t B, int64_t I, int64_t Hid) {
  return "B " + std::to_string(B) + ", I " + std::to_string(I) + ", Hid " + std::to_string(Hid);
}

}  // namespace

TEST_CASE("lesson 05, exercise 1: a GRU step from its equations") {
  for (auto [B, I, Hid] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 4}, {2, 17, 3}}) {
    nn::GRUCell cell({.input_size = I, .hidden_size = Hid, .seed = uint64_t(B * 100 + I)});
    Generator gen(uint64_t(I + Hid));
    const Tensor x = randn({B, I}, gen), h = randn({B, Hid}, gen);
    const Tensor expected = cell.forward(Variable(x), Variable(h)).value();
    const Tensor computed = lesson05::gru_cell(Variable(x), Variable(h), cell.weight_ih, cell.weight_hh,
                                               cell.bias_ih, cell.bias_hh)
                                .value();
    testing::expect_close(5, 1, sizes(B, I, Hid), expected, computed);
  }
  // Every input gets its gradient: the step is built from differentiable ops.
  Generator gen(7);
  const int64_t B = 2, I = 3, Hid = 4;
  testing::expect_gradcheck(
      5, 1, sizes(B, I, Hid) + ", gradients of x, h, both weights and both biases",
      [](const std::vector<Variable>& v) { return lesson05::gru_cell(v[0], v[1], v[2], v[3], v[4], v[5]); },
      {randn({B, I}, gen), randn({B, Hid}, gen), randn({3 * Hid, I}, gen) * 0.5f,
       randn({3 * Hid, Hid}, gen) * 0.5f, randn({3 * Hid}, gen) * 0.5f, randn({3 * Hid}, gen) * 0.5f});
}

TEST_CASE("lesson 05, exercise 2: the teacher-forced forward pass") {
  using course::AttentionKind;
  for (AttentionKind kind : {AttentionKind::none, AttentionKind::bahdanau}) {
    course::Seq2Seq model({.source_vocab = 9,
                           .target_vocab = 11,
                           .embed = 8,
                           .hidden = 16,
                           .attention = kind,
                           .bos = 1,
                           .seed = 3});
    const Tensor source = from_vector({4, 5, 6, 7, 8, 3, 2, 4, 5, 6, 7, 8, 4, 4, 5}, {3, 5});
    const Tensor target = from_vector({3, 4, 5, 6, 7, 8, 9, 10, 2, 3, 10, 9}, {3, 4});
    const Tensor expected = model.forward(source, Tensor(), target).logits.value();
    const Variable computed = lesson05::teacher_forced_logits(model, source, target);
    testing::expect_close(5, 2, std::string("B 3, S 5, T 4, ") + course::name_of(kind), expected,
                          computed.value());
    // The logits stay on the graph: training reads their gradient.
    testing::expect_true(5, 2, std::string(course::name_of(kind)), computed.requires_grad(),
                         "the logits do not require grad: keep them Variables from step()");
  }
}

TEST_CASE("lesson 05, exercise 3: exact-match accuracy per token and per sequence") {
  // Rows: all right; one wrong; wrong only under padding; all padding.
  const Tensor target = from_vector({4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 0, 0, 0, 0, 0, 0}, {4, 4});
  const Tensor predicted = from_vector({4, 5, 6, 7, 4, 9, 6, 7, 4, 5, 8, 8, 3, 3, 3, 3}, {4, 4});
  const Tensor padding = from_vector({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}, {4, 4});
  auto check = [](const std::string& input, const course::Accuracy& a, double token, double sequence) {
    testing::expect_close(5, 3, input, from_vector({float(token), float(sequence)}, {2}),
                          from_vector({float(a.token), float(a.sequence)}, {2}));
  };
  check("4 rows with padding (token, sequence)", lesson05::exact_match(predicted, target, padding), 9.0 / 10,
        3.0 / 4);
  check("the same rows, no padding", lesson05::exact_match(predicted, target, Tensor()), 9.0 / 16, 1.0 / 4);
  check("all positions padded", lesson05::exact_match(predicted, target, ones({4, 4})), 1.0, 1.0);
  // Random (B, T) at odd sizes against a count written out here.
  for (auto [B, T] : {std::pair<int64_t, int64_t>{1, 1}, {3, 17}, {17, 3}, {63, 5}}) {
    Generator gen(uint64_t(B * T));
    std::vector<float> y(B * T), p(B * T), pad(B * T);
    int64_t visible = 0, right = 0, rows = 0;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t length = gen.randint(T + 1);
      bool all = true;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t i = b * T + t;
        y[i] = float(gen.randint(3));
        p[i] = gen.randint(4) == 0 ? float(gen.randint(3)) : y[i];
        pad[i] = t < length ? 0.0f : 1.0f;
        if (t < length) {
          ++visible;
          right += p[i] == y[i];
          all = all && p[i] == y[i];
        }
      }
      rows += all;
    }
    const std::string input = "random (" + std::to_string(B) + ", " + std::to_string(T) + ") with padding";
    check(input,
          lesson05::exact_match(from_vector(p, {B, T}), from_vector(y, {B, T}), from_vector(pad, {B, T})),
          visible == 0 ? 1.0 : double(right) / double(visible), double(rows) / double(B));
  }
}
