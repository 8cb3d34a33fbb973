// Lesson 07's exercises, graded against nn::LuongAttention with the same
// weights, and by gradcheck.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "lessons/07_luong/exercises.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

struct Case {
  int64_t B, S, Hid;
  std::vector<int64_t> lengths;  // per row; S for no padding
  std::string name() const {
    std::ostringstream s;
    s << "B " << B << ", S " << S << ", Hid " << Hid << ", lengths";
    for (int64_t l : lengths) s << " " << l;
    return s.str();
  }
};

const Case kCases[] = {{1, 1, 1, {1}}, {2, 5, 4, {5, 3}}, {3, 17, 3, {17, 1, 9}}};

nn::LuongAttention layer_for(const Case& c, nn::LuongScore score,
                             nn::LuongWindow window = nn::LuongWindow::global, int64_t half_window = 0) {
  return nn::LuongAttention({.hidden_size = c.Hid,
                             .score = score,
                             .window = window,
                             .half_window = half_window,
                             .seed = uint64_t(c.S * 5 + c.Hid)});
}

Tensor value_or_empty(const Variable& v) { return v.defined() ? v.value() : Tensor(); }

}  // namespace

TEST_CASE("lesson 07, exercise 1: global attention with the general score") {
  for (const Case& c : kCases) {
    nn::LuongAttention layer = layer_for(c, nn::LuongScore::general);
    Generator gen(uint64_t(c.B * 3 + c.S));
    const Tensor h = randn({c.B, c.Hid}, gen), k = randn({c.B, c.S, c.Hid}, gen);
    for (bool padded : {false, true}) {
      const Tensor padding = padded ? nn::key_padding_mask(c.lengths, c.S) : Tensor();
      const nn::LuongOutput expected = layer.forward(Variable(h), Variable(k), 0, padding);
      const nn::LuongOutput computed = lesson07::luong_general(layer, Variable(h), Variable(k), padding);
      const std::string input = c.name() + (padded ? ", padded" : ", no padding");
      testing::expect_close(7, 1, input + " (weights)", expected.weights.value(),
                            value_or_empty(computed.weights));
      testing::expect_close(7, 1, input + " (context)", expected.context.value(),
                            value_or_empty(computed.context));
      testing::expect_close(7, 1, input + " (attentional state)", expected.attentional.value(),
                            value_or_empty(computed.attentional));
    }
  }
  const Case& c = kCases[1];
  nn::LuongAttention layer = layer_for(c, nn::LuongScore::general);
  Generator gen(2);
  testing::expect_gradcheck(
      7, 1, c.name() + ", gradients of the attentional state by h_t and keys",
      [&](const std::vector<Variable>& v) {
        return lesson07::luong_general(layer, v[0], v[1], nn::key_padding_mask(c.lengths, c.S)).attentional;
      },
      {randn({c.B, c.Hid}, gen), randn({c.B, c.S, c.Hid}, gen)});
}

TEST_CASE("lesson 07, exercise 2: the concat score") {
  for (const Case& c : kCases) {
    nn::LuongAttention layer = layer_for(c, nn::LuongScore::concat);
    Generator gen(uint64_t(c.B * 7 + c.S));
    const Tensor h = randn({c.B, c.Hid}, gen), k = randn({c.B, c.S, c.Hid}, gen);
    const Tensor scores = lesson07::luong_concat_scores(layer, Variable(h), Variable(k)).value();
    // Through their softmax: the layer's weights (it gives no raw scores).
    const Tensor expected = layer.forward(Variable(h), Variable(k)).weights.value();
    testing::expect_close(7, 2, c.name() + " (softmax of your scores against the layer's weights)", expected,
                          scores.shape() == expected.shape() ? softmax(scores, -1) : scores);
    // And as numbers, from the layer's own parts.
    const Variable pairs = cat({expand(unsqueeze(Variable(h), 1), {c.B, c.S, c.Hid}), Variable(k)}, 2);
    const Tensor raw = reshape(layer.v_a->forward(tanh(layer.w_a->forward(pairs))), {c.B, c.S}).value();
    testing::expect_close(7, 2, c.name() + " (the scores)", raw, scores);
  }
  const Case& c = kCases[1];
  nn::LuongAttention layer = layer_for(c, nn::LuongScore::concat);
  Generator gen(3);
  testing::expect_gradcheck(
      7, 2, c.name() + ", gradients by h_t and keys",
      [&](const std::vector<Variable>& v) { return lesson07::luong_concat_scores(layer, v[0], v[1]); },
      {randn({c.B, c.Hid}, gen), randn({c.B, c.S, c.Hid}, gen)});
}

TEST_CASE("lesson 07, exercise 3: local-p's predicted position and Gaussian window") {
  for (const Case& c : kCases) {
    for (int64_t D : {1, 2, 3}) {
      nn::LuongAttention layer = layer_for(c, nn::LuongScore::dot, nn::LuongWindow::local_p, D);
      Generator gen(uint64_t(c.B * 11 + c.S + D));
      const Tensor h = randn({c.B, c.Hid}, gen) * 2.0f, k = randn({c.B, c.S, c.Hid}, gen);
      const Tensor padding = nn::key_padding_mask(c.lengths, c.S);
      const Tensor lengths = from_vector(std::vector<float>(c.lengths.begin(), c.lengths.end()), {c.B});
      const Tensor position = layer.forward(Variable(h), Variable(k), 0, padding).position.value();
      const lesson07::LocalPWindow window = lesson07::local_p_window(layer, Variable(h), lengths, c.S);
      const std::string input = c.name() + ", D " + std::to_string(D);
      testing::expect_close(7, 3, input + " (position p_t)", position, value_or_empty(window.position));
      const Tensor distance = unsqueeze(arange(c.S), 0) - unsqueeze(position, 1);  // (B, S)
      const float sigma = float(D) / 2.0f;
      testing::expect_close(7, 3, input + " (gaussian)", exp(distance * distance * (-0.5f / (sigma * sigma))),
                            value_or_empty(window.gaussian));
      testing::expect_close(7, 3, input + " (outside the window)", gt(abs(distance), scalar(float(D))),
                            window.outside);
    }
  }
  // The window is differentiable in h_t (through p_t): local-p learns where to look.
  const Case& c = kCases[1];
  nn::LuongAttention layer = layer_for(c, nn::LuongScore::dot, nn::LuongWindow::local_p, 2);
  Generator gen(5);
  const Tensor lengths = from_vector({5, 3}, {2});
  testing::expect_gradcheck(7, 3, c.name() + ", D 2, gradient of the gaussian by h_t",
                            [&](const std::vector<Variable>& v) {
                              return lesson07::local_p_window(layer, v[0], lengths, c.S).gaussian;
                            },
                            {randn({c.B, c.Hid}, gen)});
}
