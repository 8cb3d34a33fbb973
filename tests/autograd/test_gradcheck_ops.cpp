// Every differentiable op passes gradcheck: its backward agrees with central
// finite differences, on broadcast, non-contiguous and batched inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/autograd.h"

using namespace heed;

namespace {

using Vars = std::vector<Variable>;

Tensor randn_(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen);
}

// Normal values pushed at least 0.2 away from 0: no kink of relu/abs within eps.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor x = randn_(shape, seed);
  return x + 0.2f * (gt(x, scalar(0.0f)) - le(x, scalar(0.0f)));
}

// Uniform on [low, high).
Tensor uniform_(const Shape& shape, float low, float high, uint64_t seed) {
  Generator gen(seed);
  return uniform(shape, low, high, gen);
}

}  // namespace

// ------------------------------------------------------------- elementwise
TEST_CASE("unary elementwise ops pass gradcheck") {
  Tensor x = randn_({3, 4}, 1);
  Tensor positive = uniform_({3, 4}, 0.5f, 2.0f, 2);
  Tensor kinked = away_from_zero({3, 4}, 3);
  CHECK(gradcheck([](const Vars& v) { return neg(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return -v[0]; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return exp(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return log(v[0]); }, {positive}));
  CHECK(gradcheck([](const Vars& v) { return sqrt(v[0]); }, {positive}));
  CHECK(gradcheck([](const Vars& v) { return abs(v[0]); }, {kinked}));
  CHECK(gradcheck([](const Vars& v) { return tanh(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return sigmoid(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return relu(v[0]); }, {kinked}));
  CHECK(gradcheck([](const Vars& v) { return gelu(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return elu(v[0]); }, {kinked}));
  CHECK(gradcheck([](const Vars& v) { return elu(v[0], 0.3f); }, {kinked}));
  CHECK(gradcheck([](const Vars& v) { return pow(v[0], 3.0f); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return pow(v[0], -1.5f); }, {positive}));
}

TEST_CASE("binary elementwise ops pass gradcheck with broadcasting") {
  Tensor a = randn_({3, 1, 4}, 4);
  Tensor b = randn_({2, 4}, 5);
  Tensor positive = uniform_({2, 4}, 0.5f, 2.0f, 6);
  CHECK(gradcheck([](const Vars& v) { return add(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](const Vars& v) { return sub(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](const Vars& v) { return mul(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](const Vars& v) { return div(v[0], v[1]); }, {a, positive}));
  CHECK(gradcheck([](const Vars& v) { return v[0] + v[1] * v[0] - v[1] / 2.0f; }, {a, b}));
}

TEST_CASE("maximum and minimum send the gradient to the winner") {
  Tensor a = randn_({4, 5}, 7);
  Tensor b = a + 0.3f * (2.0f * gt(randn_({4, 5}, 8), scalar(0.0f)) - 1.0f);  // never within eps of a tie
  CHECK(gradcheck([](const Vars& v) { return maximum(v[0], v[1]); }, {a, b}));
  CHECK(gradcheck([](const Vars& v) { return minimum(v[0], v[1]); }, {a, b}));
}

TEST_CASE("ops with a float pass gradcheck") {
  Tensor x = uniform_({5}, 0.5f, 2.0f, 9);
  CHECK(gradcheck([](const Vars& v) { return v[0] + 2.0f; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return v[0] - 2.0f; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return v[0] * 3.0f; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return v[0] / 3.0f; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return 2.0f + v[0]; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return 2.0f - v[0]; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return 3.0f * v[0]; }, {x}));
  CHECK(gradcheck([](const Vars& v) { return 3.0f / v[0]; }, {x}));
}

TEST_CASE("elementwise ops pass gradcheck on non-contiguous inputs") {
  Tensor base = randn_({4, 6}, 10);
  Tensor t = transpose(base, 0, 1);                  // (6, 4), strides (1, 6)
  Tensor s = slice(randn_({6, 8}, 11), 1, 0, 8, 2);  // (6, 4), every other column
  CHECK(gradcheck([](const Vars& v) { return tanh(v[0]) * v[1]; }, {t, s}));
}

// ------------------------------------------------------------- reductions
TEST_CASE("reductions pass gradcheck over any dims, with and without keepdim") {
  Tensor x = randn_({2, 3, 4}, 12);
  CHECK(gradcheck([](const Vars& v) { return sum(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return sum(v[0], {0, 2}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return sum(v[0], {-1}, true); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return mean(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return mean(v[0], {1}, true); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return var(v[0], {2}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return var(v[0], {0, 1}, false, true); }, {x}));
  // Values 0.1 apart, in shuffled order: no two within eps of a tie.
  std::vector<float> values(24);
  for (int k = 0; k < 24; ++k) values[k] = 0.1f * float((k * 7) % 24) - 1.2f;
  Tensor distinct = from_vector(values, {2, 3, 4});
  CHECK(gradcheck([](const Vars& v) { return amax(v[0], {1}); }, {distinct}));
  CHECK(gradcheck([](const Vars& v) { return amax(v[0]); }, {distinct}));
  CHECK(gradcheck([](const Vars& v) { return max(v[0], 2); }, {distinct}));
  CHECK(gradcheck([](const Vars& v) { return max(v[0], 0, true); }, {distinct}));
}

TEST_CASE("amax splits the gradient evenly between tied maxima") {
  Variable x(Tensor{1, 3, 3}, true);
  amax(x).backward();
  CHECK(allclose(x.grad(), Tensor{0, 0.5f, 0.5f}));
}

// ------------------------------------------------------------- views
TEST_CASE("views pass gradcheck") {
  Tensor x = randn_({2, 3, 4}, 13);
  CHECK(gradcheck([](const Vars& v) { return view(v[0], {6, 4}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return reshape(v[0], {4, -1}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return reshape(transpose(v[0], 0, 2), {-1}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return flatten(v[0]); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return transpose(v[0], -1, 0); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return permute(v[0], {2, 0, 1}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return slice(v[0], 2, 1, 4, 2); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return slice(v[0], 1, -2, 100); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return narrow(v[0], 1, 1, 2); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return select(v[0], 1, -1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return unsqueeze(v[0], -1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return squeeze(unsqueeze(v[0], 1), 1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return contiguous(transpose(v[0], 0, 1)); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return expand(v[0], {5, 2, 3, 4}); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return expand(v[0], {2, 3, 4}); }, {randn_({3, 1}, 14)}));
}

// ------------------------------------------------------------- matmul
TEST_CASE("matmul passes gradcheck for 2-D, 1-D and batched operands") {
  CHECK(
      gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn_({3, 4}, 15), randn_({4, 5}, 16)}));
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn_({4}, 17), randn_({4}, 18)}));
  CHECK(
      gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn_({4}, 19), randn_({2, 4, 3}, 20)}));
  CHECK(
      gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn_({2, 3, 4}, 21), randn_({4}, 22)}));
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], v[1]); },
                  {randn_({2, 3, 4}, 23), randn_({2, 4, 5}, 24)}));
}

TEST_CASE("matmul passes gradcheck with broadcast batch dims") {
  // (2, 1, 3, 4) x (5, 4, 2) -> (2, 5, 3, 2); both inputs' grads sum over the broadcast dims.
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], v[1]); },
                  {randn_({2, 1, 3, 4}, 25), randn_({5, 4, 2}, 26)}));
  // A weight shared by every batch: (2, 3, 4) x (4, 5), its gradient one product
  // over all 6 rows; also from a transposed (non-contiguous) a and into a vector b.
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], v[1]); },
                  {randn_({2, 3, 4}, 27), randn_({4, 5}, 28)}));
  CHECK(gradcheck([](const Vars& v) { return matmul(transpose(v[0], 1, 2), v[1]); },
                  {randn_({2, 4, 3}, 27), randn_({4, 5}, 28)}));
  CHECK(
      gradcheck([](const Vars& v) { return matmul(v[0], v[1]); }, {randn_({2, 3, 4}, 27), randn_({4}, 28)}));
}

TEST_CASE("matmul passes gradcheck with transposed operands") {
  Tensor q = randn_({2, 3, 4}, 29), k = randn_({2, 5, 4}, 30);
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], transpose(v[1], -2, -1)); }, {q, k}));
  // Inputs that are themselves transposed views.
  CHECK(gradcheck([](const Vars& v) { return matmul(v[0], v[1]); },
                  {transpose(randn_({4, 3}, 31), 0, 1), transpose(randn_({5, 4}, 32), 0, 1)}));
}

// ------------------------------------------------------------- softmax
TEST_CASE("softmax and log_softmax pass gradcheck along any dim") {
  Tensor x = randn_({3, 4, 5}, 33);
  CHECK(gradcheck([](const Vars& v) { return softmax(v[0], -1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return softmax(v[0], 1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return log_softmax(v[0], -1); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return log_softmax(v[0], 0); }, {x}));
}

TEST_CASE("masked_softmax passes gradcheck, and a fully masked row gets zero gradient") {
  Tensor x = randn_({3, 4}, 34);
  Tensor mask = Tensor{{0, 1, 0, 0}, {1, 1, 1, 1}, {0, 0, 0, 1}};  // row 1 fully hidden
  CHECK(gradcheck([mask](const Vars& v) { return masked_softmax(v[0], mask, -1); }, {x}));
  Variable xv(x, true);
  sum(masked_softmax(xv, mask, -1) * Variable(randn_({3, 4}, 35))).backward();
  std::vector<float> g = xv.grad().to_vector();
  for (int j = 0; j < 4; ++j) CHECK(g[4 + j] == 0.0f);
  CHECK(g[1] == 0.0f);
  // A (T, S) mask broadcast over (B, T, S) scores, as attention uses it.
  Tensor causal = Tensor{{0, 1, 1}, {0, 0, 1}, {0, 0, 0}};
  CHECK(gradcheck([causal](const Vars& v) { return masked_softmax(v[0], causal, -1); },
                  {randn_({2, 3, 3}, 36)}));
}

// ------------------------------------------------------------- selection, joining
TEST_CASE("masked_fill and where pass gradcheck with broadcasting") {
  Tensor x = randn_({2, 3}, 37);
  Tensor mask = Tensor{1, 0, 1};
  CHECK(gradcheck([mask](const Vars& v) { return masked_fill(v[0], mask, -5.0f); }, {x}));
  Tensor cond = Tensor{{1, 0, 0}, {0, 1, 1}};
  CHECK(gradcheck([cond](const Vars& v) { return where(cond, v[0], v[1]); }, {x, randn_({3}, 38)}));
}

TEST_CASE("gather and index_select scatter-add their gradient, repeated indices included") {
  Tensor x = randn_({3, 4}, 39);
  Tensor index = Tensor{{0, 0, 3}, {2, 1, 2}, {1, 1, 1}};
  CHECK(gradcheck([index](const Vars& v) { return gather(v[0], 1, index); }, {x}));
  Tensor rows = Tensor{{2, 0}, {2, 2}};  // (2, 2) ids -> out (2, 2, 4)
  CHECK(gradcheck([rows](const Vars& v) { return index_select(v[0], 0, rows); }, {x}));
  CHECK(gradcheck([](const Vars& v) { return index_select(v[0], 1, Tensor{3, 3, 0}); }, {x}));
  Variable xv(x, true);
  sum(index_select(xv, 0, Tensor{1, 1, 1})).backward();
  CHECK(xv.grad().at({1, 0}) == 3.0f);
}

TEST_CASE("cat, stack, split and chunk pass gradcheck") {
  Tensor a = randn_({2, 3}, 40), b = randn_({4, 3}, 41), c = randn_({2, 3}, 42);
  CHECK(gradcheck([](const Vars& v) { return cat({v[0], v[1]}, 0); }, {a, b}));
  CHECK(gradcheck([](const Vars& v) { return cat({v[0], v[1], v[0]}, -1); }, {a, c}));
  CHECK(gradcheck([](const Vars& v) { return stack({v[0], v[1]}, 1); }, {a, c}));
  CHECK(gradcheck([](const Vars& v) { return stack({v[0], v[1]}, -1); }, {a, c}));
  // Each piece weighted differently, so a mix-up between pieces would show.
  CHECK(gradcheck(
      [](const Vars& v) {
        std::vector<Variable> p = split(v[0], 3, 1);  // (4, 3), (4, 2)
        return cat({p[0] * 2.0f, exp(p[1])}, 1);
      },
      {randn_({4, 5}, 43)}));
  CHECK(gradcheck(
      [](const Vars& v) {
        std::vector<Variable> p = chunk(v[0], 3, 0);  // 7 rows: 3, 3, 1
        return cat({p[2], p[0] * 3.0f, tanh(p[1])}, 0);
      },
      {randn_({7, 2}, 44)}));
}

// ------------------------------------------------------------- fused ops
TEST_CASE("cross_entropy passes gradcheck with ignore_index and label smoothing, for every reduction") {
  Tensor logits = randn_({5, 4}, 45);
  Tensor target = Tensor{1, 0, -100, 3, 3};
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none})
    for (float e : {0.0f, 0.1f}) {
      CAPTURE(e);
      CHECK(gradcheck([&](const Vars& v) { return cross_entropy(v[0], target, -100, e, r); }, {logits}));
    }
  Tensor pad_target = Tensor{1, 0, 2, 2, 3};
  CHECK(gradcheck([&](const Vars& v) { return cross_entropy(v[0], pad_target, 2, 0.2f); }, {logits}));
}

TEST_CASE("cross_entropy matches log_softmax followed by the smoothed NLL") {
  Tensor logits = randn_({3, 4}, 46);
  Tensor target = Tensor{2, -100, 0};
  float e = 0.1f;
  Tensor lsm = log_softmax(logits, 1);
  double expected = -((1 - e) * lsm.at({0, 2}) + (1 - e) * lsm.at({2, 0}) +
                      e / 4 * (sum(select(lsm, 0, 0)).item() + sum(select(lsm, 0, 2)).item())) /
                    2.0;
  CHECK(cross_entropy(Variable(logits), target, -100, e).item() == doctest::Approx(expected).epsilon(1e-5));
}

TEST_CASE("cross_entropy with every row ignored is zero, not NaN") {
  Variable logits(randn_({2, 3}, 47), true);
  Variable loss = cross_entropy(logits, Tensor{-100, -100});
  CHECK(loss.item() == 0.0f);
  loss.backward();
  CHECK(allclose(logits.grad(), zeros({2, 3})));
}

TEST_CASE("cross_entropy with a -inf logit (a masked class) is finite without smoothing, +inf with it") {
  const float inf = INFINITY;
  Variable logits(Tensor{{0, -inf, 1}, {2, 0, -inf}}, true);
  Variable loss = cross_entropy(logits, Tensor{2, 0});
  // each row is the softmax cross-entropy over its finite logits alone
  float row0 = std::log(1.0f + std::exp(-1.0f)), row1 = std::log(1.0f + std::exp(-2.0f));
  CHECK(loss.item() == doctest::Approx((row0 + row1) / 2).epsilon(1e-6));
  loss.backward();
  CHECK(logits.grad().at({0, 1}) == 0.0f);  // the masked class gets no gradient
  CHECK(std::isfinite(sum(logits.grad()).item()));
  // With smoothing, the target distribution puts e / C on the masked class,
  // whose log-probability is -inf: the loss is +inf, as in PyTorch; the gradient
  // softmax - q stays finite (-e / C on the masked class).
  logits.zero_grad();
  Variable smoothed = cross_entropy(logits, Tensor{2, 0}, -100, 0.3f);
  CHECK(smoothed.item() == inf);
  smoothed.backward();
  CHECK(logits.grad().at({0, 1}) == doctest::Approx(-0.3f / 3 / 2));
}

TEST_CASE("cross_entropy and nll_loss reject a bad target") {
  Variable logits(randn_({2, 3}, 48), true);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, Tensor{0, 3}),
                       "cross_entropy: target 3 at row 1 is not a class id in [0, 3) nor ignore_index -100",
                       Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, Tensor{0, 1, 2}),
                       "cross_entropy: target must have shape (2,) for 2 rows of logits, got (3,)", Error);
  CHECK_THROWS_WITH_AS(
      cross_entropy(Variable(randn_({2, 3, 4}, 49)), Tensor{0, 1}),
      "cross_entropy: expected (N, C) scores, got shape (2, 3, 4); reshape (B, T, C) to (B*T, C) "
      "first",
      Error);
  CHECK_THROWS_WITH_AS(nll_loss(logits, Tensor{0.5f, 1}),
                       "nll_loss: target 0.5 at row 0 is not a class id in [0, 3) nor ignore_index -100",
                       Error);
}

TEST_CASE("nll_loss and mse_loss pass gradcheck") {
  Tensor lp = randn_({4, 3}, 50);
  Tensor target = Tensor{0, 2, -100, 1};
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none})
    CHECK(gradcheck([&](const Vars& v) { return nll_loss(v[0], target, -100, r); }, {lp}));
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none})
    CHECK(gradcheck([&](const Vars& v) { return mse_loss(v[0], v[1], r); },
                    {randn_({3, 2}, 51), randn_({3, 2}, 52)}));
}

TEST_CASE("layer_norm passes gradcheck for x, weight and bias") {
  Tensor x = randn_({2, 3, 5}, 53) * 2.0f + 1.0f;
  Tensor w = randn_({5}, 54), b = randn_({5}, 55);
  CHECK(gradcheck([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b}));
  CHECK(gradcheck([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); }, {transpose(x, 0, 1), w, b}));
}

TEST_CASE("layer_norm normalizes each row to mean 0 and variance 1 before the affine map") {
  Variable x(randn_({4, 8}, 56) * 3.0f + 2.0f);
  Tensor y = layer_norm(x, Variable(ones({8})), Variable(zeros({8}))).value();
  CHECK(allclose(mean(y, {1}), zeros({4}), 0, 1e-5f));
  CHECK(allclose(var(y, {1}, false), ones({4}), 1e-3f, 0));
  CHECK_THROWS_WITH_AS(layer_norm(x, Variable(ones({7})), Variable(zeros({8}))),
                       "layer_norm: x of shape (4, 8) needs weight and bias of shape (8,), got (7,) and (8,)",
                       Error);
}

TEST_CASE("dropout passes gradcheck with its mask fixed by the seed") {
  Tensor x = randn_({4, 5}, 57);
  // Each evaluation draws from a fresh generator with the same seed: the same mask.
  CHECK(gradcheck(
      [](const Vars& v) {
        Generator gen(7);
        return dropout(v[0], 0.3f, /*training=*/true, gen);
      },
      {x}));
}

TEST_CASE("dropout zeros a fraction p, scales the rest by 1/(1-p), and is the identity in eval") {
  Generator gen(1);
  Variable x(ones({100, 100}), true);
  Variable y = dropout(x, 0.25f, true, gen);
  std::vector<float> v = y.value().to_vector();
  int64_t zeros_count = std::count(v.begin(), v.end(), 0.0f);
  CHECK(zeros_count == doctest::Approx(2500).epsilon(0.1));
  CHECK(std::count(v.begin(), v.end(), 1.0f / 0.75f) == 10000 - zeros_count);
  sum(y).backward();
  CHECK(equal(x.grad(), y.value()));  // the saved mask
  Variable same = dropout(x, 0.25f, /*training=*/false, gen);
  CHECK(same.impl() == x.impl());
  CHECK_THROWS_WITH_AS(dropout(x, 1.5f, true, gen), "dropout: p must be in [0, 1], got 1.5", Error);
}

TEST_CASE("embedding passes gradcheck with repeated ids and padding_idx") {
  Tensor weight = randn_({6, 3}, 58);
  Tensor ids = Tensor{{1, 4, 1}, {0, 0, 5}};
  CHECK(gradcheck([&](const Vars& v) { return embedding(v[0], ids); }, {weight}));
  Variable w(weight, true);
  Variable out = embedding(w, ids, /*padding_idx=*/0);
  CHECK(out.shape() == Shape{2, 3, 3});
  sum(out).backward();
  CHECK(allclose(select(w.grad(), 0, 0), zeros({3})));       // the padding row: no gradient
  CHECK(allclose(select(w.grad(), 0, 1), full({3}, 2.0f)));  // id 1 used twice
  CHECK(allclose(select(w.grad(), 0, 2), zeros({3})));       // never used
  CHECK_THROWS_WITH_AS(embedding(w, ids, 6), "embedding: padding_idx 6 is out of range for 6 rows", Error);
}

// ------------------------------------------------------------- a small network
TEST_CASE("a two-layer attention-like block passes gradcheck end to end") {
  Tensor x = randn_({2, 3, 4}, 59), wq = randn_({4, 4}, 60) * 0.5f, wv = randn_({4, 4}, 61) * 0.5f;
  Tensor g = ones({4}), b = zeros({4});
  CHECK(gradcheck(
      [](const Vars& v) {
        Variable q = matmul(v[0], v[1]);
        Variable scores = matmul(q, transpose(v[0], -2, -1)) * 0.5f;
        Variable weights = softmax(scores, -1);
        Variable h = matmul(weights, matmul(v[0], v[2])) + v[0];
        return layer_norm(h, v[3], v[4]);
      },
      {x, wq, wv, g, b}));
}
