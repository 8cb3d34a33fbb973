// Lesson 06's exercises, graded against nn::BahdanauAttention with the same
// weights and heed's masked_softmax, and by gradcheck.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "lessons/06_bahdanau/exercises.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

struct Case {
  int64_t B, S, Dq, Dk, Hd;
  std::vector<int64_t> lengths;  // per row; S for no padding
  std::string name() const {
    std::ostringstream s;
    s << "B " << B << ", S " << S << ", Dq " << Dq << ", Dk " << Dk << ", Hd " << Hd << ", lengths";
    for (int64_t l : lengths) s << " " << l;
    return s.str();
  }
};

const Case kCases[] = {{1, 1, 1, 1, 1, {1}}, {2, 5, 3, 4, 6, {5, 3}}, {3, 17, 5, 2, 3, {17, 1, 9}}};

nn::BahdanauAttention layer_for(const Case& c) {
  return nn::BahdanauAttention(
      {.query_size = c.Dq, .key_size = c.Dk, .hidden_size = c.Hd, .seed = uint64_t(c.S * 7 + c.Hd)});
}

// The library's unmasked scores, from the layer's own parts.
Tensor library_scores(const nn::BahdanauAttention& layer, const Tensor& q, const Tensor& k) {
  const int64_t B = k.size(0), S = k.size(1);
  Variable hidden = tanh(unsqueeze(layer.w_q->forward(Variable(q)), 1) + layer.w_k->forward(Variable(k)));
  return reshape(layer.v->forward(hidden), {B, S}).value();
}

}  // namespace

TEST_CASE("lesson 06, exercise 1: the additive score with padded keys masked") {
  for (const Case& c : kCases) {
    nn::BahdanauAttention layer = layer_for(c);
    Generator gen(uint64_t(c.B + c.S));
    const Tensor q = randn({c.B, c.Dq}, gen), k = randn({c.B, c.S, c.Dk}, gen);
    const Tensor padding = nn::key_padding_mask(c.lengths, c.S);
    const Tensor e = lesson06::additive_scores(layer, Variable(q), Variable(k), padding).value();
    // Visible scores as the layer's parts give them; padded ones -infinity.
    const Tensor expected = library_scores(layer, q, k);
    if (e.shape() != expected.shape()) {
      testing::expect_close(6, 1, c.name(), expected, e);
      continue;
    }
    bool padded_ok = true;
    for (int64_t i = 0; i < e.numel(); ++i)
      if (contiguous(padding).data()[i] != 0.0f)
        padded_ok = padded_ok && std::isinf(contiguous(e).data()[i]) && contiguous(e).data()[i] < 0;
    testing::expect_true(6, 1, c.name(), padded_ok, "a padded key's score is not -infinity");
    testing::expect_close(6, 1, c.name() + " (visible scores; padded ones set to 0 here)",
                          masked_fill(expected, padding, 0.0f), masked_fill(e, padding, 0.0f), 1e-5);
    // Their softmax is the layer's weights.
    const Tensor weights = layer.forward(Variable(q), layer.remember(Variable(k), padding)).weights.value();
    testing::expect_close(6, 1, c.name() + " (softmax of your scores against the layer's weights)", weights,
                          softmax(e, -1), 1e-5);
  }
  const Case& c = kCases[1];
  nn::BahdanauAttention layer = layer_for(c);
  Generator gen(3);
  testing::expect_gradcheck(6, 1, c.name() + ", gradients of query and keys",
                            [&](const std::vector<Variable>& v) {
                              const Tensor padding = nn::key_padding_mask(c.lengths, c.S);
                              return masked_fill(lesson06::additive_scores(layer, v[0], v[1], padding),
                                                 padding, 0.0f);
                            },
                            {randn({c.B, c.Dq}, gen), randn({c.B, c.S, c.Dk}, gen)});
}

TEST_CASE("lesson 06, exercise 2: the masked softmax, a fully masked row giving zeros") {
  Generator gen(11);
  // (4, 5): row 0 all visible, row 1 two hidden, row 2 all hidden, row 3 one visible.
  const Tensor mask = from_vector({0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1}, {4, 5});
  const Tensor scores = randn({4, 5}, gen) * 3.0f;
  testing::expect_close(6, 2, "(4, 5) with a fully masked row", masked_softmax(scores, mask, -1),
                        lesson06::masked_softmax_last(Variable(scores), mask).value());
  // Hidden scores at -infinity (what exercise 1 gives) and huge visible ones.
  const Tensor wild = masked_fill(scores * 100.0f, mask, -INFINITY);
  testing::expect_close(6, 2, "(4, 5), hidden scores -inf, visible ones up to ~1000",
                        masked_softmax(wild, mask, -1),
                        lesson06::masked_softmax_last(Variable(wild), mask).value());
  // (2, 3, 17): odd sizes, random masks.
  const Tensor big = randn({2, 3, 17}, gen), big_mask = gt(rand({2, 3, 17}, gen), scalar(0.6f));
  testing::expect_close(6, 2, "(2, 3, 17), random mask", masked_softmax(big, big_mask, -1),
                        lesson06::masked_softmax_last(Variable(big), big_mask).value());
  testing::expect_gradcheck(
      6, 2, "(4, 5) with a fully masked row, gradient of the scores",
      [&](const std::vector<Variable>& v) { return lesson06::masked_softmax_last(v[0], mask); }, {scores});
}

TEST_CASE("lesson 06, exercise 3: additive attention's context and weights") {
  for (const Case& c : kCases) {
    nn::BahdanauAttention layer = layer_for(c);
    Generator gen(uint64_t(5 * c.B + c.S));
    const Tensor q = randn({c.B, c.Dq}, gen), k = randn({c.B, c.S, c.Dk}, gen);
    for (bool padded : {false, true}) {
      const Tensor padding = padded ? nn::key_padding_mask(c.lengths, c.S) : Tensor();
      const nn::Attention expected = layer.forward(Variable(q), layer.remember(Variable(k), padding));
      const nn::Attention computed = lesson06::additive_attention(layer, Variable(q), Variable(k), padding);
      const std::string input = c.name() + (padded ? ", padded" : ", no padding");
      testing::expect_close(6, 3, input + " (weights)", expected.weights.value(),
                            computed.weights.defined() ? computed.weights.value() : Tensor());
      testing::expect_close(6, 3, input + " (context)", expected.output.value(),
                            computed.output.defined() ? computed.output.value() : Tensor());
    }
  }
  const Case& c = kCases[1];
  nn::BahdanauAttention layer = layer_for(c);
  Generator gen(4);
  testing::expect_gradcheck(
      6, 3, c.name() + ", gradients of the context by query and keys",
      [&](const std::vector<Variable>& v) {
        return lesson06::additive_attention(layer, v[0], v[1], nn::key_padding_mask(c.lengths, c.S)).output;
      },
      {randn({c.B, c.Dq}, gen), randn({c.B, c.S, c.Dk}, gen)});
}
