// Scaled dot-product attention and its masks: the properties attention code
// breaks in practice (a mask of the wrong polarity, NaN on a fully masked row,
// a future that leaks into the past), each checked exactly, beside gradcheck.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "nn/attention/scaled_dot_product.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

TEST_CASE("causal_mask hides the future, and with a cache the queries are the last positions") {
  CHECK(nn::causal_mask(3).to_vector() == std::vector<float>{0, 1, 1, 0, 0, 1, 0, 0, 0});
  CHECK(nn::causal_mask(2, 4).to_vector() == std::vector<float>{0, 0, 0, 1, 0, 0, 0, 0});
  CHECK(nn::causal_mask(0).shape() == Shape{0, 0});
  CHECK_THROWS_WITH_AS(nn::causal_mask(3, 2), "causal_mask: 3 queries need at least as many keys, got 2",
                       Error);
}

TEST_CASE("key_padding_mask marks the keys past each sequence's length") {
  CHECK(nn::key_padding_mask({2, 0, 3}, 3).to_vector() == std::vector<float>{0, 0, 1, 1, 1, 1, 0, 0, 0});
  CHECK_THROWS_WITH_AS(nn::key_padding_mask({4}, 3),
                       "key_padding_mask: length 4 of sequence 0 is outside [0, 3]", Error);
}

TEST_CASE("attention rows sum to 1, masked keys get exactly 0, and their values exactly zero gradient") {
  Variable q(randn_({2, 3, 4}, 1), true), k(randn_({2, 5, 4}, 2), true), v(randn_({2, 5, 6}, 3), true);
  Tensor mask = unsqueeze(nn::key_padding_mask({3, 5}, 5), 1);  // (2, 1, 5): batch 0 hides keys 3 and 4
  nn::Attention a = nn::scaled_dot_product_attention(q, k, v, mask);
  CHECK(a.output.shape() == Shape{2, 3, 6});
  CHECK(a.weights.shape() == Shape{2, 3, 5});
  CHECK(allclose(sum(a.weights.value(), {-1}), ones({2, 3}), 1e-6f, 1e-6f));
  for (int64_t t = 0; t < 3; ++t) {
    CHECK(a.weights.value().at({0, t, 3}) == 0.0f);
    CHECK(a.weights.value().at({0, t, 4}) == 0.0f);
  }
  sum(a.output * a.output).backward();
  for (int64_t j : {3, 4})
    for (int64_t d = 0; d < 6; ++d) {
      CHECK(v.grad().at({0, j, d}) == 0.0f);
      CHECK(k.grad().at({0, j, d % 4}) == 0.0f);
    }
}

TEST_CASE("a fully masked query gets zero weights, zero output and zero gradients, never NaN") {
  Variable q(randn_({1, 2, 4}, 4), true), k(randn_({1, 3, 4}, 5), true), v(randn_({1, 3, 4}, 6), true);
  Tensor mask = Tensor{{{0, 1, 0}, {1, 1, 1}}};  // query 1 sees nothing
  nn::Attention a = nn::scaled_dot_product_attention(q, k, v, mask);
  for (int64_t j = 0; j < 3; ++j) CHECK(a.weights.value().at({0, 1, j}) == 0.0f);
  for (int64_t d = 0; d < 4; ++d) CHECK(a.output.value().at({0, 1, d}) == 0.0f);
  sum(a.output).backward();
  for (int64_t d = 0; d < 4; ++d) CHECK(q.grad().at({0, 1, d}) == 0.0f);
  CHECK(std::isfinite(sum(k.grad()).item()));
  CHECK(std::isfinite(sum(v.grad()).item()));
}

TEST_CASE("scaled_dot_product_attention passes gradcheck, unmasked, padded and causal, with heads") {
  Tensor q = randn_({2, 2, 3, 4}, 7), k = randn_({2, 2, 5, 4}, 8), v = randn_({2, 2, 5, 3}, 9);
  for (const Tensor& mask : {Tensor(), Tensor(nn::causal_mask(3, 5)),
                             unsqueeze(unsqueeze(nn::key_padding_mask({2, 5}, 5), 1), 1)}) {
    CHECK(gradcheck(
        [&](const Vars& x) { return nn::scaled_dot_product_attention(x[0], x[1], x[2], mask).output; },
        {q, k, v}));
  }
}

TEST_CASE("causal attention: inputs after t change nothing at or before t, and get exactly zero gradient") {
  const int64_t T = 6, t = 2;
  Tensor x = randn_({1, T, 4}, 10);
  Tensor later = clone(x);
  for (int64_t i = t + 1; i < T; ++i)
    for (int64_t d = 0; d < 4; ++d) later.at({0, i, d}) += 3.0f;
  Tensor mask = nn::causal_mask(T);
  auto attend = [&](const Variable& in) { return nn::scaled_dot_product_attention(in, in, in, mask).output; };
  Tensor a = attend(x).value(), b = attend(later).value();
  for (int64_t i = 0; i <= t; ++i)
    for (int64_t d = 0; d < 4; ++d) CHECK(a.at({0, i, d}) == b.at({0, i, d}));  // bitwise
  Variable in(x, true);
  sum(narrow(attend(in), 1, 0, t + 1)).backward();
  for (int64_t i = t + 1; i < T; ++i)
    for (int64_t d = 0; d < 4; ++d) CHECK(in.grad().at({0, i, d}) == 0.0f);
}

TEST_CASE("attention names the shapes it cannot use") {
  Variable q(zeros({2, 3, 4})), k(zeros({2, 5, 3})), v(zeros({2, 4, 4}));
  CHECK_THROWS_WITH_AS(
      nn::attention_weights(q, k),
      "attention: queries of shape (2, 3, 4) and keys of shape (2, 5, 3) need matching last dims "
      "(..., T, Dh) and (..., S, Dh)",
      Error);
  CHECK_THROWS_WITH_AS(
      nn::scaled_dot_product_attention(q, Variable(zeros({2, 5, 4})), v),
      "attention: keys of shape (2, 5, 4) but values of shape (2, 4, 4); keys and values need one "
      "row per position",
      Error);
}
