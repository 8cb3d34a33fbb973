// softmax, log_softmax and masked_softmax along any dim.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// softmax by definition, in double, walking each slice along dim through the
// row-major strides of x.
Tensor naive_softmax(const Tensor& x, int64_t dim) {
  const int64_t d = dim < 0 ? dim + x.dim() : dim;
  const std::vector<float> v = x.to_vector();
  const Strides st = contiguous_strides(x.shape());
  const int64_t n = x.size(d), step = st[d];
  std::vector<float> out(v.size());
  for (int64_t e = 0; e < static_cast<int64_t>(v.size()); ++e) {
    int64_t base = e - (e / step % n) * step;
    double m = -kInf, s = 0;
    for (int64_t t = 0; t < n; ++t) m = std::max(m, double(v[base + t * step]));
    for (int64_t t = 0; t < n; ++t) s += std::exp(double(v[base + t * step]) - m);
    out[e] = static_cast<float>(std::exp(double(v[e]) - m) / s);
  }
  return from_vector(out, x.shape());
}

}  // namespace

TEST_CASE("softmax along any dim matches the definition and each slice sums to 1") {
  Generator gen(1);
  Tensor x = randn({3, 5, 17}, gen) * 3.0f;
  for (int64_t dim : {0, 1, 2, -1, -2, -3}) {
    CAPTURE(dim);
    Tensor y = softmax(x, dim);
    CHECK(y.shape() == x.shape());
    CHECK(y.is_contiguous());
    CHECK(allclose(y, naive_softmax(x, dim), 1e-5f, 1e-6f));
    Shape reduced = x.shape();
    reduced.erase(dim < 0 ? dim + 3 : dim);
    CHECK(allclose(sum(y, {dim}), ones(reduced), 1e-5f, 1e-6f));
  }
}

TEST_CASE("softmax of logits of +-1e4 is exact, not inf/inf") {
  CHECK(allclose(softmax(Tensor{{1e4f, -1e4f, 1e4f}, {-1e4f, -1e4f, -1e4f}}, 1),
                 Tensor{{0.5f, 0.0f, 0.5f}, {1 / 3.0f, 1 / 3.0f, 1 / 3.0f}}, 1e-6f, 0.0f));
  CHECK(allclose(log_softmax(Tensor{1e4f, -1e4f}, 0), Tensor{0.0f, -2e4f}, 1e-6f, 0.0f));
}

TEST_CASE("softmax gives a -inf logit exactly zero weight") {
  Tensor y = softmax(Tensor{0.0f, -kInf, 0.0f, -kInf}, -1);
  CHECK(equal(y, Tensor{0.5f, 0.0f, 0.5f, 0.0f}));
  CHECK(log_softmax(Tensor{0.0f, -kInf}, 0).at({1}) == -kInf);
}

TEST_CASE("softmax of a non-contiguous input equals softmax of its contiguous copy") {
  Generator gen(2);
  Tensor base = randn({6, 8, 10}, gen);
  SUBCASE("a transposed view") {
    Tensor x = transpose(base, 0, 2);  // (10, 8, 6)
    for (int64_t dim : {0, 1, 2}) CHECK(equal(softmax(x, dim), softmax(clone(x), dim)));
  }
  SUBCASE("a strided slice") {
    Tensor x = slice(slice(base, 2, 1, 10, 3), 0, 0, 6, 2);  // (3, 8, 3)
    for (int64_t dim : {0, 1, 2}) CHECK(equal(log_softmax(x, dim), log_softmax(clone(x), dim)));
  }
  SUBCASE("an expanded view") {
    Tensor x = expand(randn({1, 5}, gen), {4, 5});
    CHECK(equal(softmax(x, 0), full({4, 5}, 0.25f)));
    CHECK(equal(softmax(x, 1), softmax(clone(x), 1)));
  }
}

TEST_CASE("log_softmax equals log(softmax) within float tolerance") {
  Generator gen(3);
  Tensor x = randn({4, 7, 9}, gen) * 4.0f;
  for (int64_t dim : {0, 1, 2}) CHECK(allclose(log_softmax(x, dim), log(softmax(x, dim)), 1e-4f, 1e-5f));
}

TEST_CASE("masked_softmax gives hidden entries zero weight and renormalizes the rest") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  Tensor mask{{0, 1, 0}, {1, 0, 0}};
  Tensor y = masked_softmax(x, mask, -1);
  CHECK(y.at({0, 1}) == 0.0f);
  CHECK(y.at({1, 0}) == 0.0f);
  CHECK(allclose(y,
                 Tensor{{1 / (1 + std::exp(2.0f)), 0, 1 / (1 + std::exp(-2.0f))},
                        {0, 1 / (1 + std::exp(1.0f)), 1 / (1 + std::exp(-1.0f))}},
                 1e-5f, 1e-7f));
}

TEST_CASE("masked_softmax of a fully masked row is zeros, not NaN") {
  Tensor y = masked_softmax(Tensor{{1, 2, 3}, {4, 5, 6}}, Tensor{{1, 1, 1}, {0, 0, 1}}, 1);
  CHECK(equal(select(y, 0, 0), zeros({3})));
  CHECK(allclose(select(y, 0, 1), Tensor{1 / (1 + std::exp(1.0f)), 1 / (1 + std::exp(-1.0f)), 0}, 1e-5f,
                 1e-7f));
}

TEST_CASE("masked_softmax broadcasts a causal (T, S) mask over (B, H, T, S) scores") {
  Generator gen(4);
  const int64_t T = 5;
  Tensor scores = randn({2, 3, T, T}, gen);
  Tensor causal = zeros({T, T});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = i + 1; j < T; ++j) causal.at({i, j}) = 1.0f;
  Tensor y = masked_softmax(scores, causal, -1);
  CHECK(y.shape() == scores.shape());
  CHECK(allclose(y, naive_softmax(masked_fill(scores, causal, -kInf), -1), 1e-5f, 1e-7f));
  CHECK(allclose(sum(y, {-1}), ones({2, 3, T}), 1e-5f, 1e-6f));
}

TEST_CASE("masked_softmax along a non-last dim of a non-contiguous input") {
  Generator gen(5);
  Tensor x = transpose(randn({6, 4}, gen), 0, 1);     // (4, 6)
  Tensor mask = reshape(Tensor{0, 1, 0, 1}, {4, 1});  // hides rows 1 and 3
  Tensor y = masked_softmax(x, mask, 0);
  CHECK(allclose(y, naive_softmax(masked_fill(x, mask, -kInf), 0), 1e-5f, 1e-7f));
  CHECK(equal(select(y, 0, 1), zeros({6})));
  CHECK(equal(masked_softmax(x, Tensor(), 0), softmax(x, 0)));  // no mask hides nothing
}

TEST_CASE("softmax of a 0-dim or empty tensor") {
  CHECK(equal(softmax(scalar(3.0f), 0), scalar(1.0f)));
  CHECK(softmax(zeros({0, 4}), 1).shape() == Shape{0, 4});
  CHECK(softmax(zeros({3, 0}), 1).shape() == Shape{3, 0});
  CHECK(log_softmax(zeros({2, 0, 3}), 0).shape() == Shape{2, 0, 3});
}

TEST_CASE("softmax errors name the op") {
  CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}), 2),
                       "softmax: dim 2 is out of range for a tensor with 2 dimensions (expected -2 to 1)",
                       heed::Error);
  CHECK_THROWS_WITH_AS(masked_softmax(zeros({2, 3}), zeros({2, 2, 3}), 1),
                       "masked_softmax: mask of shape (2, 2, 3) does not broadcast to x of shape (2, 3)",
                       heed::Error);
  CHECK_THROWS_AS(masked_softmax(zeros({2, 3}), zeros({4}), 1), heed::Error);
}
