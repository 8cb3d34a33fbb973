// Efficient attention: the sparse patterns (band, sliding window, strided) and
// linear attention. Each pattern is checked against masks written out by hand
// and against full attention where it must agree; "cannot see" is checked as
// an exactly zero gradient. Linear attention is checked against its quadratic
// form (the (T, S) matrix it never builds), and its hand-written causal
// backward against gradcheck and against autograd through that quadratic form.
#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "autograd/gradcheck.h"
#include "nn/attention/fused.h"
#include "nn/attention/linear_attention.h"
#include "nn/attention/multi_head.h"
#include "nn/attention/sparse.h"
#include "tests/nn/layer_check.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;
using V = std::vector<float>;

namespace {

// Normal values pushed at least 0.2 away from 0, where elu's second derivative
// jumps: central differences over the kink would be off by O(eps).
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor x = randn_(shape, seed);
  return x + 0.2f * (gt(x, scalar(0.0f)) - le(x, scalar(0.0f)));
}

// Linear attention the slow way: the (..., T, S) similarities phi(q) phi(k)^T,
// masked, normalised per row, times v. What linear_attention must equal.
Variable quadratic_linear_attention(const Variable& q, const Variable& k, const Variable& v,
                                    const Tensor& hidden, float eps = 1e-6f) {
  Variable a = matmul(nn::elu_feature_map(q), transpose(nn::elu_feature_map(k), -2, -1));  // (..., T, S)
  if (hidden.defined()) a = a * eq(hidden, scalar(0.0f));
  return matmul(a / (sum(a, {-1}, true) + eps), v);
}

// Gradient of sum(out[..., i, :] * w) with respect to k and v: what out_i depends on.
struct KeyValueGrads {
  Tensor k, v;
};
template <class Attend>
KeyValueGrads grads_of_row(Attend attend, const Tensor& q0, const Tensor& k0, const Tensor& v0, int64_t i) {
  Variable q(q0, true), k(k0, true), v(v0, true);
  Variable out = attend(q, k, v);
  sum(select(out, -2, i) * randn_({out.size(-1)}, 99)).backward();
  return {k.grad(), v.grad()};
}

}  // namespace

// ------------------------------------------------------------- masks
TEST_CASE("band_mask shows p - left .. p + right, and with a cache the queries are the last positions") {
  CHECK(nn::band_mask(4, 1, 0).to_vector() == V{0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0});
  CHECK(nn::band_mask(4, 0, 2).to_vector() == V{0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0});
  CHECK(nn::band_mask(2, 1, 1, 5).to_vector() == V{1, 1, 0, 0, 0, 1, 1, 1, 0, 0});  // positions 3 and 4
  CHECK(nn::band_mask(0, 2, 2).shape() == Shape{0, 0});
}

TEST_CASE("sliding_window_mask: causal is band (w - 1, 0), centred is (w / 2, (w - 1) / 2)") {
  CHECK(nn::sliding_window_band(3, true).left == 2);
  CHECK(nn::sliding_window_band(3, true).right == 0);
  CHECK(nn::sliding_window_band(3, false).left == 1);
  CHECK(nn::sliding_window_band(3, false).right == 1);
  CHECK(nn::sliding_window_band(4, false).left == 2);  // even: the extra key is in the past
  CHECK(nn::sliding_window_band(4, false).right == 1);
  // causal, w = 2: itself and the one before
  CHECK(nn::sliding_window_mask(4, 2).to_vector() == V{0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0});
  // centred, w = 3: one on each side
  CHECK(nn::sliding_window_mask(4, 3, false).to_vector() ==
        V{0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0});
  // centred, w = 2: itself and the one before, like causal w = 2
  CHECK(equal(nn::sliding_window_mask(5, 2, false), nn::sliding_window_mask(5, 2, true)));
  // centred, w = 4: two before, one after
  CHECK(equal(nn::sliding_window_mask(6, 4, false), nn::band_mask(6, 2, 1)));
  // every row sees exactly w keys away from the ends
  Tensor m = nn::sliding_window_mask(9, 4, false);
  for (int64_t i = 2; i < 8; ++i) CHECK(sum(select(m, 0, i)).item() == 9 - 4);
  CHECK(equal(nn::sliding_window_mask(2, 3, true, 6), slice(nn::sliding_window_mask(6, 3, true), 0, 4, 6)));
}

TEST_CASE("strided_mask is Child et al.'s band of l keys plus every l-th key, causal and not") {
  // l = 3, causal: query p sees j <= p with p - j < 3 or (p - j) % 3 == 0.
  const V causal{
      0, 1, 1, 1, 1, 1, 1,  // 0: 0
      0, 0, 1, 1, 1, 1, 1,  // 1: 0 1
      0, 0, 0, 1, 1, 1, 1,  // 2: 0 1 2
      0, 0, 0, 0, 1, 1, 1,  // 3: 1 2 3 and 0 (distance 3)
      1, 0, 0, 0, 0, 1, 1,  // 4: 2 3 4 and 1; not 0 (distance 4)
      1, 1, 0, 0, 0, 0, 1,  // 5: 3 4 5 and 2; not 1, 0
      0, 1, 1, 0, 0, 0, 0,  // 6: 4 5 6 and 3, 0; not 2, 1
  };
  CHECK(nn::strided_mask(7, 3).to_vector() == causal);
  // Not causal: |p - j| < 3 or |p - j| % 3 == 0.
  Tensor both = nn::strided_mask(7, 3, false);
  CHECK(select(both, 0, 0).to_vector() == V{0, 0, 0, 0, 1, 1, 0});
  CHECK(select(both, 0, 3).to_vector() == V{0, 0, 0, 0, 0, 0, 0});
  CHECK(select(both, 0, 5).to_vector() == V{1, 1, 0, 0, 0, 0, 0});
  CHECK(select(both, 0, 6).to_vector() == V{0, 1, 1, 0, 0, 0, 0});
  CHECK(equal(both, transpose(both, 0, 1)));  // symmetric
  // With a cache: the last rows of the full pattern.
  CHECK(equal(nn::strided_mask(2, 3, true, 7), slice(nn::strided_mask(7, 3), 0, 5, 7)));
  // Stride 1: every key, so plain causal (and no mask at all when not causal).
  CHECK(equal(nn::strided_mask(5, 1), nn::causal_mask(5)));
  CHECK(equal(nn::strided_mask(5, 1, false), zeros({5, 5})));
}

TEST_CASE("the masks reject bad arguments with errors that name them") {
  CHECK_THROWS_WITH_AS(nn::sliding_window_mask(4, 0),
                       "sliding_window: the window must hold at least 1 key, got 0", Error);
  CHECK_THROWS_WITH_AS(nn::sliding_window_mask(4, 2, true, 3),
                       "sliding_window_mask: 4 queries need at least as many keys, got 3", Error);
  CHECK_THROWS_WITH_AS(nn::strided_mask(3, 0), "strided_mask: the stride must be >= 1, got 0", Error);
  CHECK_THROWS_WITH_AS(nn::strided_mask(3, 2, false, 2),
                       "strided_mask: 3 queries need at least as many keys, got 2", Error);
  CHECK_THROWS_WITH_AS(
      nn::band_mask(3, -1, 0),
      "band_mask: left and right must be >= 0 (a query sees itself), got left -1 and right 0", Error);
  CHECK_THROWS_AS(
      nn::sliding_window_attention(Variable(zeros({4})), Variable(zeros({3, 4})), Variable(zeros({3, 4})), 2),
      Error);
}

// ------------------------------------------------------------- sparse attention
TEST_CASE("a sliding window as wide as the sequence is full attention, causal or not") {
  for (int64_t T : {1, 3, 17}) {
    CAPTURE(T);
    Variable q(randn_({2, T, 4}, 1)), k(randn_({2, T, 4}, 2)), v(randn_({2, T, 3}, 3));
    Tensor full = nn::scaled_dot_product_attention(q, k, v).output.value();
    Tensor causal = nn::scaled_dot_product_attention(q, k, v, nn::causal_mask(T)).output.value();
    for (int64_t w : {T, T + 4}) {
      CHECK(equal(nn::sliding_window_attention(q, k, v, w, true).output.value(), causal));
      CHECK(equal(nn::strided_attention(q, k, v, w, true).output.value(), causal));
    }
    // Centred: (w / 2, (w - 1) / 2) reaches every key from every query once w >= 2T - 1.
    CHECK(equal(nn::sliding_window_attention(q, k, v, 2 * T - 1, false).output.value(), full));
    CHECK(equal(nn::strided_attention(q, k, v, T, false).output.value(), full));
    if (T > 1) {
      CHECK(!equal(nn::sliding_window_attention(q, k, v, 2 * T - 2, false).output.value(), full));
      CHECK(!equal(nn::sliding_window_attention(q, k, v, T - 1, true).output.value(), causal));
    }
  }
}

TEST_CASE("the output at i gets exactly zero gradient from keys and values outside its pattern") {
  const int64_t T = 9, S = 12;  // with a cache: query i at position S - T + i
  Tensor q = randn_({2, 2, T, 4}, 4), k = randn_({2, 2, S, 4}, 5), v = randn_({2, 2, S, 3}, 6);
  struct Case {
    const char* name;
    Tensor mask;
    std::function<Variable(const Variable&, const Variable&, const Variable&)> attend;
  };
  std::vector<Case> cases{
      {"causal window 3", nn::sliding_window_mask(T, 3, true, S),
       [](auto& a, auto& b, auto& c) { return nn::sliding_window_attention(a, b, c, 3, true).output; }},
      {"centred window 4", nn::sliding_window_mask(T, 4, false, S),
       [](auto& a, auto& b, auto& c) { return nn::sliding_window_attention(a, b, c, 4, false).output; }},
      {"strided 3", nn::strided_mask(T, 3, true, S),
       [](auto& a, auto& b, auto& c) { return nn::strided_attention(a, b, c, 3, true).output; }},
      {"strided 3 both ways", nn::strided_mask(T, 3, false, S),
       [](auto& a, auto& b, auto& c) { return nn::strided_attention(a, b, c, 3, false).output; }},
  };
  for (const Case& c : cases)
    for (int64_t i : {int64_t(0), int64_t(4), T - 1}) {
      CAPTURE(c.name);
      CAPTURE(i);
      KeyValueGrads g = grads_of_row(c.attend, q, k, v, i);
      for (int64_t j = 0; j < S; ++j) {
        const bool hidden = c.mask.at({i, j}) != 0.0f;
        const Tensor gk = select(g.k, -2, j), gv = select(g.v, -2, j);
        if (hidden) {
          CHECK(equal(gk, zeros_like(gk)));
          CHECK(equal(gv, zeros_like(gv)));
        } else {
          CHECK(!equal(gv, zeros_like(gv)));  // a visible value always matters
        }
      }
    }
}

TEST_CASE("the fused kernel's band (left, right) = sliding_window_band(w) is the sliding window") {
  const int64_t T = 17, S = 23;  // with a cache, query i at position S - T + i
  Variable q(randn_({2, 2, T, 8}, 80)), k(randn_({2, 2, S, 8}, 81)), v(randn_({2, 2, S, 5}, 82));
  for (bool causal : {true, false})
    for (int64_t w : {1, 4, 7}) {
      CAPTURE(causal);
      CAPTURE(w);
      nn::Band band = nn::sliding_window_band(w, causal);
      Tensor fused =
          nn::fused_attention(q, k, v, {.window_left = band.left, .window_right = band.right}).value();
      CHECK(allclose(fused, nn::sliding_window_attention(q, k, v, w, causal).output.value(), 1e-5f, 1e-5f));
    }
}

TEST_CASE("sparse attention passes gradcheck, and a padding mask combines with the pattern") {
  Tensor q = randn_({2, 5, 4}, 7), k = randn_({2, 5, 4}, 8), v = randn_({2, 5, 3}, 9);
  CHECK(gradcheck([](const Vars& x) { return nn::sliding_window_attention(x[0], x[1], x[2], 2).output; },
                  {q, k, v}));
  CHECK(gradcheck([](const Vars& x) { return nn::strided_attention(x[0], x[1], x[2], 2, false).output; },
                  {q, k, v}));
  Tensor padding = unsqueeze(nn::key_padding_mask({3, 5}, 5), 1);  // (2, 1, 5)
  nn::Attention a = nn::sliding_window_attention(Variable(q), Variable(k), Variable(v), 3, false, padding);
  nn::Attention b = nn::scaled_dot_product_attention(Variable(q), Variable(k), Variable(v),
                                                     maximum(nn::sliding_window_mask(5, 3, false), padding));
  CHECK(equal(a.output.value(), b.output.value()));
  for (int64_t t = 0; t < 5; ++t) CHECK(a.weights.value().at({0, t, 4}) == 0.0f);
}

TEST_CASE("MultiHeadAttention takes a sliding window as its attn mask: out_i ignores x outside the window") {
  const int64_t T = 8, i = 5;
  nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2, .seed = 3});
  Variable x(randn_({1, T, 8}, 10), true);
  Variable out = mha.forward(x, {.attn = nn::sliding_window_mask(T, 3, true)}).output;
  sum(select(out, 1, i)).backward();
  for (int64_t j = 0; j < T; ++j) {
    const Tensor g = select(select(x.grad(), 0, 0), 0, j);
    CAPTURE(j);
    CHECK(equal(g, zeros_like(g)) == (j < i - 2 || j > i));
  }
}

// ------------------------------------------------------------- linear attention
TEST_CASE("linear attention equals its quadratic form, with batch and head dims, causal or not") {
  for (int64_t T : {1, 3, 17}) {
    CAPTURE(T);
    Variable q(randn_({2, 3, T, 4}, 11)), k(randn_({2, 3, T, 4}, 12)), v(randn_({2, 3, T, 5}, 13));
    CHECK(allclose(nn::linear_attention(q, k, v).value(),
                   quadratic_linear_attention(q, k, v, Tensor()).value(), 1e-5f, 1e-5f));
    CHECK(allclose(nn::linear_attention(q, k, v, true).value(),
                   quadratic_linear_attention(q, k, v, nn::causal_mask(T)).value(), 1e-5f, 1e-5f));
  }
  // Cross attention (S != T), and causal with the queries the last T of S.
  Variable q(randn_({2, 3, 4}, 14)), k(randn_({2, 7, 4}, 15)), v(randn_({2, 7, 2}, 16));
  CHECK(allclose(nn::linear_attention(q, k, v).value(), quadratic_linear_attention(q, k, v, Tensor()).value(),
                 1e-5f, 1e-5f));
  CHECK(allclose(nn::linear_attention(q, k, v, true).value(),
                 quadratic_linear_attention(q, k, v, nn::causal_mask(3, 7)).value(), 1e-5f, 1e-5f));
  // Padding: a hidden key counts for nothing, in both forms.
  Tensor padding = nn::key_padding_mask({4, 7}, 7);  // (2, 7)
  Tensor hidden = unsqueeze(padding, 1);             // (2, 1, 7)
  CHECK(allclose(nn::linear_attention(q, k, v, false, padding).value(),
                 quadratic_linear_attention(q, k, v, hidden).value(), 1e-5f, 1e-5f));
  CHECK(allclose(nn::linear_attention(q, k, v, true, padding).value(),
                 quadratic_linear_attention(q, k, v, maximum(hidden, nn::causal_mask(3, 7))).value(), 1e-5f,
                 1e-5f));
}

TEST_CASE("linear attention passes gradcheck, causal and not, with leading dims, T = 1, 3, 17") {
  for (int64_t T : {1, 3, 17}) {
    CAPTURE(T);
    Tensor q = away_from_zero({2, 2, T, 3}, 20), k = away_from_zero({2, 2, T, 3}, 21),
           v = randn_({2, 2, T, 2}, 22);
    CHECK(gradcheck([](const Vars& x) { return nn::linear_attention(x[0], x[1], x[2]); }, {q, k, v}));
    CHECK(gradcheck([](const Vars& x) { return nn::linear_attention(x[0], x[1], x[2], true); }, {q, k, v}));
  }
  // The recurrence op alone, on positive features, S > T, one leading dim, and a non-contiguous value.
  Generator gen(23);
  Tensor fq = uniform({3, 4, 3}, 0.1f, 2.0f, gen), fk = uniform({3, 6, 3}, 0.1f, 2.0f, gen);
  Tensor vt = transpose(randn_({3, 2, 6}, 25), 1, 2);  // (3, 6, 2), a view
  CHECK(gradcheck([](const Vars& x) { return nn::causal_linear_attention(x[0], x[1], x[2]); }, {fq, fk, vt}));
  // With key padding.
  Tensor padding = unsqueeze(nn::key_padding_mask({2, 5}, 5), 1);  // (2, 1, 5) for (2, 2, 5, 3)
  Tensor q = away_from_zero({2, 2, 5, 3}, 26), k = away_from_zero({2, 2, 5, 3}, 27),
         v = randn_({2, 2, 5, 2}, 28);
  for (bool causal : {false, true})
    CHECK(gradcheck([&](const Vars& x) { return nn::linear_attention(x[0], x[1], x[2], causal, padding); },
                    {q, k, v}));
}

TEST_CASE("the causal recurrence's hand-written backward equals autograd through the masked quadratic form") {
  const int64_t T = 17;
  Tensor q0 = randn_({2, 3, T, 4}, 30), k0 = randn_({2, 3, T, 4}, 31), v0 = randn_({2, 3, T, 5}, 32);
  Tensor w = randn_({2, 3, T, 5}, 33);
  auto grads = [&](bool recurrent) {
    Variable q(q0, true), k(k0, true), v(v0, true);
    Variable out = recurrent ? nn::linear_attention(q, k, v, true)
                             : quadratic_linear_attention(q, k, v, nn::causal_mask(T));
    sum(out * w).backward();
    return std::vector<Tensor>{q.grad(), k.grad(), v.grad()};
  };
  std::vector<Tensor> a = grads(true), b = grads(false);
  for (size_t n = 0; n < 3; ++n) CHECK(allclose(a[n], b[n], 1e-4f, 1e-5f));
}

TEST_CASE("causal linear attention: out_i gets exactly zero gradient from later keys and values") {
  const int64_t T = 9;
  Tensor q = randn_({2, T, 4}, 40), k = randn_({2, T, 4}, 41), v = randn_({2, T, 3}, 42);
  for (int64_t i : {int64_t(0), int64_t(4), T - 1}) {
    CAPTURE(i);
    KeyValueGrads g = grads_of_row(
        [](auto& a, auto& b, auto& c) { return nn::linear_attention(a, b, c, true); }, q, k, v, i);
    for (int64_t j = 0; j < T; ++j) {
      const Tensor gk = select(g.k, 1, j), gv = select(g.v, 1, j);
      CHECK(equal(gv, zeros_like(gv)) == (j > i));
      if (j > i) CHECK(equal(gk, zeros_like(gk)));
    }
  }
}

TEST_CASE("linear_attention_step, in steps of any size, gives what causal linear attention gives at once") {
  const int64_t T = 10;
  Tensor q = randn_({2, 3, T, 4}, 50), k = randn_({2, 3, T, 4}, 51), v = randn_({2, 3, T, 5}, 52);
  Tensor whole = nn::linear_attention(Variable(q), Variable(k), Variable(v), true).value();
  nn::LinearAttentionState state;
  std::vector<Tensor> pieces;
  int64_t t = 0;
  for (int64_t n : {1, 1, 3, 0, 5}) {
    auto part = [&](const Tensor& x) { return narrow(x, 2, t, n); };
    pieces.push_back(nn::linear_attention_step(state, part(q), part(k), part(v)));
    t += n;
  }
  CHECK(state.length == T);
  CHECK(state.kv.shape() == Shape{2, 3, 4, 5});
  CHECK(allclose(cat(pieces, 2), whole, 1e-5f, 1e-6f));
  CHECK_THROWS_AS(nn::linear_attention_step(state, randn_({2, 3, 1, 4}, 1), randn_({2, 3, 1, 4}, 2),
                                            randn_({2, 3, 1, 6}, 3)),
                  Error);
}

TEST_CASE("linear attention of fully padded keys is zero, not NaN; bad shapes are errors") {
  Variable q(randn_({1, 3, 4}, 60)), k(randn_({1, 3, 4}, 61)), v(randn_({1, 3, 2}, 62));
  Tensor all = ones({1, 3});
  CHECK(equal(nn::linear_attention(q, k, v, false, all).value(), zeros({1, 3, 2})));
  CHECK(equal(nn::linear_attention(q, k, v, true, all).value(), zeros({1, 3, 2})));
  CHECK(nn::linear_attention(Variable(zeros({2, 0, 4})), Variable(zeros({2, 0, 4})),
                             Variable(zeros({2, 0, 3})), true)
            .shape() == Shape{2, 0, 3});
  CHECK_THROWS_WITH_AS(
      nn::linear_attention(q, Variable(zeros({1, 3, 5})), v),
      "linear_attention: expected queries (..., T, d), keys (..., S, d) and values (..., S, e), got "
      "(1, 3, 4), (1, 3, 5) and (1, 3, 2)",
      Error);
  CHECK_THROWS_WITH_AS(nn::causal_linear_attention(Variable(zeros({1, 4, 2})), Variable(zeros({1, 3, 2})),
                                                   Variable(zeros({1, 3, 2}))),
                       "causal_linear_attention: expected queries (..., T, d), keys (..., S, d) and values "
                       "(..., S, e) with the same "
                       "leading dims and S >= T, got (1, 4, 2), (1, 3, 2) and (1, 3, 2)",
                       Error);
  CHECK_THROWS_AS(nn::linear_attention(q, k, v, false, ones({1, 4})), Error);
}

TEST_CASE("LinearAttention: multi-head linear attention, gradcheck, causality, and errors") {
  nn::LinearAttention causal({.embed_dim = 6, .num_heads = 2, .causal = true, .seed = 1});
  CHECK(causal.describe() == "LinearAttention(embed_dim=6, num_heads=2, causal=true, bias=true)");
  CHECK(causal.parameters().size() == 8);
  Tensor x = randn_({2, 4, 6}, 70);
  CHECK(testing::gradcheck_layer(
      {&causal.q_proj->weight, &causal.q_proj->bias, &causal.k_proj->weight, &causal.k_proj->bias,
       &causal.v_proj->weight, &causal.v_proj->bias, &causal.out_proj->weight, &causal.out_proj->bias},
      [&](const Vars& in) { return causal.forward(in[0]); }, {x}));
  // Changing the last position changes nothing before it.
  Tensor later = clone(x);
  for (int64_t d = 0; d < 6; ++d) later.at({0, 3, d}) += 2.0f;
  Tensor a = causal.forward(Variable(x)).value(), b = causal.forward(Variable(later)).value();
  CHECK(equal(narrow(a, 1, 0, 3), narrow(b, 1, 0, 3)));
  CHECK(!equal(narrow(a, 1, 3, 1), narrow(b, 1, 3, 1)));
  // Not causal, cross attention with padding: a padded key changes nothing.
  nn::LinearAttention cross({.embed_dim = 6, .num_heads = 3, .seed = 2});
  Tensor mem = randn_({2, 5, 6}, 71), changed = clone(mem);
  for (int64_t d = 0; d < 6; ++d) changed.at({0, 4, d}) = 9.0f;
  Tensor padding = nn::key_padding_mask({4, 5}, 5);
  CHECK(equal(cross.forward(Variable(x), Variable(mem), Variable(mem), padding).value(),
              cross.forward(Variable(x), Variable(changed), Variable(changed), padding).value()));
  CHECK_THROWS_AS(nn::LinearAttention({.embed_dim = 6, .num_heads = 4}), Error);
  CHECK_THROWS_AS(cross.forward(Variable(x), Variable(mem), Variable(mem), ones({2, 4})), Error);
  CHECK_THROWS_AS(cross.forward(Variable(randn_({2, 4, 5}, 1))), Error);
}
