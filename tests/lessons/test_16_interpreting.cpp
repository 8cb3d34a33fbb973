#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/16_interpreting/exercises.h"
#include "nn/attention/multi_head.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// Attention-like weights (B, H, T, T): softmax rows with some keys hidden
// (exactly 0) and, when T > 2, the last query fully masked (a row of zeros).
Tensor attention_like(int64_t B, int64_t H, int64_t T, Generator& gen) {
  Tensor mask = zeros({B, 1, 1, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 1; j < T; ++j) mask.at({b, 0, 0, j}) = gen.uniform() < 0.3f ? 1.0f : 0.0f;
  Tensor w = clone(masked_softmax(randn({B, H, T, T}, gen) * 2.0f, mask, -1));
  if (T > 2) fill_(narrow(w, 2, T - 1, 1), 0.0f);
  return w;
}

// The rollout by loops: Â_l[b][i][j] = (mean_h w + [i == j]) / row sum, then
// R = Â_{L-1} (... (Â_1 Â_0)).
Tensor naive_rollout(const std::vector<Tensor>& layers) {
  const int64_t B = layers[0].size(0), H = layers[0].size(1), T = layers[0].size(2);
  std::vector<double> r(B * T * T, 0.0);
  for (size_t l = 0; l < layers.size(); ++l) {
    const Tensor w = contiguous(layers[l]);
    std::vector<double> a(B * T * T, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i) {
        double total = 0;
        for (int64_t j = 0; j < T; ++j) {
          double m = i == j ? 1.0 : 0.0;
          for (int64_t h = 0; h < H; ++h) m += w.data()[((b * H + h) * T + i) * T + j] / double(H);
          a[(b * T + i) * T + j] = m;
          total += m;
        }
        for (int64_t j = 0; j < T; ++j) a[(b * T + i) * T + j] /= total;
      }
    if (l == 0) {
      r = a;
      continue;
    }
    std::vector<double> next(B * T * T, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t k = 0; k < T; ++k)
          for (int64_t j = 0; j < T; ++j)
            next[(b * T + i) * T + j] += a[(b * T + i) * T + k] * r[(b * T + k) * T + j];
    r = next;
  }
  return from_vector(std::vector<float>(r.begin(), r.end()), {B, T, T});
}

// Throws NotImplemented through; returns whether `f` threw a heed::Error.
template <class F>
bool throws_error(F f) {
  try {
    f();
  } catch (const NotImplemented&) {
    throw;
  } catch (const Error&) {
    return true;
  }
  return false;
}

}  // namespace

TEST_CASE("lesson 16, exercise 1: attention rollout") {
  Generator gen(16);
  struct Case {
    int64_t B, H, T, L;
  };
  for (const Case& c : {Case{1, 1, 1, 1}, Case{1, 1, 3, 2}, Case{3, 2, 3, 3}, Case{2, 3, 17, 2},
                        Case{1, 4, 17, 1}, Case{2, 1, 5, 4}}) {
    std::vector<Tensor> layers;
    for (int64_t l = 0; l < c.L; ++l) layers.push_back(attention_like(c.B, c.H, c.T, gen));
    std::ostringstream input;
    input << c.L << " layers of " << layers[0].shape();
    const Tensor computed = lesson16::attention_rollout(layers);
    testing::expect_close(16, 1, input.str(), naive_rollout(layers), computed, 1e-5);
    if (computed.defined() && computed.shape() == Shape({c.B, c.T, c.T}))
      testing::expect_close(16, 1, input.str() + " (every row sums to 1)", ones({c.B, c.T}),
                            sum(computed, {-1}), 1e-5);
  }
  // Transposed weights (a view, not contiguous) roll out like their copy.
  const Tensor w = attention_like(2, 2, 5, gen);
  const Tensor t = transpose(attention_like(2, 2, 5, gen), 2, 3);  // rows that need not sum to 1
  testing::expect_close(16, 1, "a transposed (2, 2, 5, 5) view", naive_rollout({w, contiguous(t)}),
                        lesson16::attention_rollout({w, t}), 1e-5);
  testing::expect_true(16, 1, "no layers", throws_error([] { lesson16::attention_rollout({}); }),
                       "expected a heed::Error for an empty list of layers");
  testing::expect_true(16, 1, "a (2, 5, 5) layer", throws_error([&] {
                         lesson16::attention_rollout({zeros({2, 5, 5})});
                       }),
                       "expected a heed::Error for weights that are not (B, H, T, T)");
  testing::expect_true(16, 1, "layers (2, 2, 5, 5) and (2, 2, 4, 4)", throws_error([&] {
                         lesson16::attention_rollout({w, attention_like(2, 2, 4, gen)});
                       }),
                       "expected a heed::Error for layers of different shapes");
}

TEST_CASE("lesson 16, exercise 2: multi-head attention with a head mask") {
  Generator gen(17);
  struct Case {
    int64_t D, H, B, T;
  };
  for (const Case& c : {Case{4, 1, 1, 1}, Case{6, 3, 2, 3}, Case{12, 3, 3, 17}, Case{8, 4, 1, 5}}) {
    nn::MultiHeadAttention mha({.embed_dim = c.D, .num_heads = c.H, .seed = uint64_t(c.D * 10 + c.H)});
    const Tensor x = randn({c.B, c.T, c.D}, gen);
    Tensor padding = zeros({c.B, c.T});
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t t = 1 + b; t < c.T; ++t) padding.at({b, t}) = 1;  // sequence b keeps 1 + b tokens
    std::vector<float> m;
    for (int64_t h = 0; h < c.H; ++h) m.push_back(h % 3 == 1 ? 0.0f : (h % 3 == 2 ? 0.5f : 1.0f));
    for (const Tensor& head_mask : {ones({c.H}), from_vector(m, {c.H})}) {
      std::ostringstream input;
      input << "D " << c.D << ", H " << c.H << ", x " << x.shape() << ", head_mask " << head_mask;
      // heed's answer: out_proj's columns of head h scaled by head_mask[h].
      nn::Attention expected;
      nn::MultiHeadAttention scaled({.embed_dim = c.D, .num_heads = c.H, .seed = uint64_t(c.D * 10 + c.H)});
      {
        NoGradGuard no_grad;
        for (int64_t h = 0; h < c.H; ++h)
          mul_(narrow(scaled.out_proj->weight.value(), 1, h * (c.D / c.H), c.D / c.H), head_mask.data()[h]);
        expected = scaled.forward(Variable(x), {.key_padding = padding});
      }
      const nn::Attention computed = lesson16::masked_heads_attention(mha, Variable(x), head_mask, padding);
      testing::expect_close(16, 2, input.str() + " (output)", expected.output.value(),
                            computed.output.defined() ? computed.output.value() : Tensor());
      testing::expect_close(16, 2, input.str() + " (weights)", expected.weights.value(),
                            computed.weights.defined() ? computed.weights.value() : Tensor());
    }
    // No padding at all (an undefined key_padding).
    {
      std::ostringstream input;
      input << "D " << c.D << ", H " << c.H << ", x " << x.shape() << ", no key_padding";
      NoGradGuard no_grad;
      const nn::Attention expected = mha.forward(Variable(x));
      const nn::Attention computed = lesson16::masked_heads_attention(mha, Variable(x), ones({c.H}));
      testing::expect_close(16, 2, input.str(), expected.output.value(),
                            computed.output.defined() ? computed.output.value() : Tensor());
    }
  }
  // Gradients reach x through every unmasked head.
  nn::MultiHeadAttention mha({.embed_dim = 6, .num_heads = 3, .seed = 3});
  const Tensor head_mask = Tensor{1.0f, 0.0f, 0.5f}, padding = Tensor{{0.0f, 0.0f, 0.0f, 1.0f}};
  testing::expect_gradcheck(16, 2, "x (1, 4, 6), head_mask (1, 0, 0.5), last key padded",
                            [&](const std::vector<Variable>& v) {
                              return lesson16::masked_heads_attention(mha, v[0], head_mask, padding).output;
                            },
                            {randn({1, 4, 6}, gen)});
  testing::expect_true(16, 2, "head_mask (2,) for 3 heads", throws_error([&] {
                         lesson16::masked_heads_attention(mha, Variable(randn({1, 4, 6}, gen)), ones({2}));
                       }),
                       "expected a heed::Error for a head_mask that is not (H,)");
}

TEST_CASE("lesson 16, exercise 3: the entropy of attention rows") {
  Generator gen(18);
  auto naive = [](const Tensor& weights) {
    const Tensor w = contiguous(weights);
    const int64_t S = w.size(-1), rows = w.numel() / S;
    std::vector<float> out(rows);
    for (int64_t r = 0; r < rows; ++r) {
      double h = 0;
      for (int64_t j = 0; j < S; ++j) {
        const double p = w.data()[r * S + j];
        if (p > 0) h -= p * std::log(p);
      }
      out[r] = float(h);
    }
    Shape shape = w.shape();
    shape.pop_back();
    return from_vector(out, shape);
  };
  for (const Tensor& w :
       {attention_like(1, 1, 1, gen), attention_like(1, 1, 3, gen), attention_like(2, 3, 17, gen),
        attention_like(3, 2, 5, gen), softmax(randn({63}, gen), -1), softmax(randn({2, 65}, gen), -1)}) {
    std::ostringstream input;
    input << "weights " << w.shape();
    Variable weights(w, true);
    const Variable computed = lesson16::attention_entropy(weights);
    testing::expect_true(16, 3, input.str(), computed.op() == "attention_entropy",
                         "the entropy should be made by your record(\"attention_entropy\", ...), not by '" +
                             computed.op() + "'");
    testing::expect_close(16, 3, input.str(), naive(w), computed.value(), 1e-5);
    // The backward: -(log w + 1) times the upstream gradient where w > 0, else 0.
    const Tensor upstream = randn(computed.shape(), gen);
    computed.backward(upstream);
    const Tensor expected =
        where(gt(w, scalar(0.0f)), -(log(maximum(w, scalar(1e-30f))) + 1.0f), zeros(w.shape())) *
        unsqueeze(upstream, -1);
    testing::expect_close(16, 3, input.str() + " (d entropy / d weights)", expected, weights.grad(), 1e-4);
  }
  // Rows whose answers are known: one-hot, uniform over n keys, all zero.
  const Tensor known = Tensor{{0.0f, 1.0f, 0.0f, 0.0f},
                              {0.25f, 0.25f, 0.25f, 0.25f},
                              {0.5f, 0.0f, 0.5f, 0.0f},
                              {0.0f, 0.0f, 0.0f, 0.0f}};
  testing::expect_close(16, 3, "rows one-hot, uniform over 4, uniform over 2, all zero",
                        Tensor{0.0f, float(std::log(4.0)), float(std::log(2.0)), 0.0f},
                        lesson16::attention_entropy(Variable(known)).value(), 1e-6);
  // Finite differences on strictly positive weights (away from 0, where the
  // entropy's slope -(log w + 1) grows without bound).
  testing::expect_gradcheck(16, 3, "weights (2, 3, 5) in [0.1, 0.9]",
                            [](const std::vector<Variable>& v) { return lesson16::attention_entropy(v[0]); },
                            {uniform({2, 3, 5}, 0.1f, 0.9f, gen)}, {.eps = 1e-3});
}
