// Elementwise ops (tensor/elementwise.cpp): each op against its std:: reference
// on contiguous and strided inputs, NumPy broadcasting, in-place ops, errors,
// and bitwise-equal results for any thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing.h"

using namespace heed;
using V = std::vector<float>;

namespace {

// The same 12 values seen four ways: contiguous, transposed, sliced with a
// step, and expanded from a row. Each is a (3, 4) tensor.
std::vector<Tensor> layouts(float low, float high, uint64_t seed) {
  Generator gen(seed);
  Tensor base = uniform({3, 4}, low, high, gen);
  Tensor wide = uniform({3, 8}, low, high, gen);
  Tensor row = uniform({1, 4}, low, high, gen);
  return {base, transpose(uniform({4, 3}, low, high, gen), 0, 1), slice(wide, 1, 1, 8, 2),
          expand(row, {3, 4})};
}

// |got - want| <= tol * max(1, |want|), elementwise, on row-major values.
void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
  V g = got.to_vector();
  REQUIRE(g.size() == want.size());
  for (size_t i = 0; i < g.size(); ++i)
    CHECK(std::fabs(g[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i])));
}

void check_unary(Tensor (*op)(const Tensor&), double (*ref)(double), float low, float high, double tol) {
  for (const Tensor& x : layouts(low, high, 7)) {
    Tensor y = op(x);
    CHECK(y.shape() == x.shape());
    CHECK(y.is_contiguous());
    CHECK(y.storage() != x.storage());
    std::vector<double> want;
    for (float v : x.to_vector()) want.push_back(ref(v));
    check_close(y, want, tol);
  }
}

void check_binary(Tensor (*op)(const Tensor&, const Tensor&),
                  const std::function<double(float, float)>& ref) {
  std::vector<Tensor> as = layouts(0.5f, 2.0f, 1), bs = layouts(-2.0f, 2.0f, 2);
  for (const Tensor& a : as)
    for (const Tensor& b : bs) {
      Tensor y = op(a, b);
      V av = a.to_vector(), bv = b.to_vector();
      std::vector<double> want;
      for (size_t i = 0; i < av.size(); ++i) want.push_back(ref(av[i], bv[i]));
      check_close(y, want, 0.0);  // one float operation: exact
    }
}

double gelu_ref(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

}  // namespace

TEST_CASE("unary ops match std:: on contiguous, transposed, stepped and expanded inputs") {
  check_unary(
      neg, [](double x) { return -x; }, -3, 3, 0);
  check_unary(
      abs, [](double x) { return std::fabs(x); }, -3, 3, 0);
  check_unary(
      relu, [](double x) { return x < 0 ? 0.0 : x; }, -3, 3, 0);
  check_unary(
      exp, [](double x) { return std::exp(x); }, -10, 10, 1e-6);
  check_unary(
      log, [](double x) { return std::log(x); }, 1e-3f, 100, 1e-6);
  check_unary(
      sqrt, [](double x) { return std::sqrt(x); }, 0, 100, 1e-7);
  check_unary(
      tanh, [](double x) { return std::tanh(x); }, -5, 5, 1e-6);
  check_unary(
      sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -20, 20, 1e-6);
  check_unary(gelu, gelu_ref, -6, 6, 1e-6);
  check_unary([](const Tensor& x) { return elu(x); }, [](double x) { return x > 0 ? x : std::expm1(x); }, -5,
              5, 1e-7);
  check_unary([](const Tensor& x) { return elu(x, 0.5f); },
              [](double x) { return x > 0 ? x : 0.5 * std::expm1(x); }, -5, 5, 1e-7);
}

TEST_CASE("gelu is the tanh approximation") {
  V y = gelu(Tensor{-1, 0, 1, 3}).to_vector();
  CHECK(y[0] == doctest::Approx(-0.158808).epsilon(1e-5));
  CHECK(y[1] == 0.0f);
  CHECK(y[2] == doctest::Approx(0.841192).epsilon(1e-5));
  CHECK(y[3] == doctest::Approx(2.996363).epsilon(1e-5));
}

TEST_CASE("sigmoid never overflows for large |x|") {
  V y = sigmoid(Tensor{-1000, -100, -88, 0, 88, 100, 1000}).to_vector();
  for (float v : y) CHECK(std::isfinite(v));
  CHECK(y[0] == 0.0f);
  CHECK(y[1] == 0.0f);  // e^-100 is below FLT_MIN: flushed to 0, as simd::exp does
  CHECK(y[3] == 0.5f);
  CHECK(y[6] == 1.0f);
}

TEST_CASE("pow: squares and square roots are exact, other exponents use std::pow") {
  for (const Tensor& x : layouts(0.1f, 3.0f, 3)) {
    V v = x.to_vector(), sq = pow(x, 2).to_vector(), rt = pow(x, 0.5f).to_vector(),
      cube = pow(x, 3).to_vector(), one = pow(x, 1).to_vector(), inv = pow(x, -1).to_vector();
    for (size_t i = 0; i < v.size(); ++i) {
      CHECK(sq[i] == v[i] * v[i]);
      CHECK(rt[i] == std::sqrt(v[i]));
      CHECK(cube[i] == std::pow(v[i], 3.0f));
      CHECK(one[i] == v[i]);
      CHECK(inv[i] == 1.0f / v[i]);
    }
  }
}

TEST_CASE("NaN propagates through relu, maximum and minimum; comparisons with NaN are false") {
  float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(relu(Tensor{nan}).item()));
  CHECK(std::isnan(maximum(Tensor{nan}, Tensor{1}).item()));
  CHECK(std::isnan(maximum(Tensor{1}, Tensor{nan}).item()));
  CHECK(std::isnan(minimum(Tensor{nan}, Tensor{1}).item()));
  CHECK(std::isnan(minimum(Tensor{1}, Tensor{nan}).item()));
  CHECK(eq(Tensor{nan}, Tensor{nan}).item() == 0);
  CHECK(ne(Tensor{nan}, Tensor{nan}).item() == 1);
  CHECK(lt(Tensor{nan}, Tensor{1}).item() == 0);
  CHECK(ge(Tensor{nan}, Tensor{1}).item() == 0);
}

TEST_CASE("binary ops match one float operation on every pair of layouts") {
  check_binary(add, [](float a, float b) { return a + b; });
  check_binary(sub, [](float a, float b) { return a - b; });
  check_binary(mul, [](float a, float b) { return a * b; });
  check_binary(div, [](float a, float b) { return a / b; });
  check_binary(maximum, [](float a, float b) { return std::max(a, b); });
  check_binary(minimum, [](float a, float b) { return std::min(a, b); });
}

TEST_CASE("comparisons give 1 where true and 0 where false") {
  Tensor a{1, 2, 3}, b{2, 2, 2};
  CHECK(eq(a, b).to_vector() == V{0, 1, 0});
  CHECK(ne(a, b).to_vector() == V{1, 0, 1});
  CHECK(lt(a, b).to_vector() == V{1, 0, 0});
  CHECK(le(a, b).to_vector() == V{1, 1, 0});
  CHECK(gt(a, b).to_vector() == V{0, 0, 1});
  CHECK(ge(a, b).to_vector() == V{0, 1, 1});
  CHECK(ge(transpose(Tensor{{1, 5}, {3, 4}}, 0, 1), scalar(3)).to_vector() == V{0, 1, 1, 1});
}

TEST_CASE("add broadcasts (2, 3) with (3,)") {
  Tensor y = add(Tensor{{1, 2, 3}, {4, 5, 6}}, Tensor{10, 20, 30});
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.to_vector() == V{11, 22, 33, 14, 25, 36});
}

TEST_CASE("mul broadcasts (2, 1) with (1, 3) to (2, 3)") {
  Tensor y = mul(reshape(Tensor{1, 2}, {2, 1}), Tensor{{1, 10, 100}});
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.to_vector() == V{1, 10, 100, 2, 20, 200});
}

TEST_CASE("sub broadcasts a column against a row, in both orders") {
  Tensor col = reshape(Tensor{1, 2, 3}, {3, 1}), row = Tensor{10, 20};
  CHECK(sub(col, row).to_vector() == V{-9, -19, -8, -18, -7, -17});
  CHECK(sub(row, col).to_vector() == V{9, 19, 8, 18, 7, 17});
}

TEST_CASE("broadcasting adds leading dims: (4, 1, 3) with (2, 1)") {
  Generator gen(5);
  Tensor a = randn({4, 1, 3}, gen), b = randn({2, 1}, gen);
  Tensor y = a + b;
  CHECK(y.shape() == Shape{4, 2, 3});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) CHECK(y.at({i, j, k}) == a.at({i, 0, k}) + b.at({j, 0}));
}

TEST_CASE("0-dim scalar tensors broadcast with anything") {
  CHECK((scalar(2) * Tensor{{1, 2}, {3, 4}}).to_vector() == V{2, 4, 6, 8});
  CHECK((Tensor{{1, 2}, {3, 4}} - scalar(1)).shape() == Shape{2, 2});
  Tensor s = scalar(3) + scalar(4);
  CHECK(s.dim() == 0);
  CHECK(s.item() == 7);
  CHECK(exp(scalar(0)).dim() == 0);
}

TEST_CASE("size-0 dims broadcast to size-0 results") {
  CHECK(add(zeros({0, 3}), Tensor{1, 2, 3}).shape() == Shape{0, 3});
  CHECK(add(zeros({2, 0}), zeros({1})).shape() == Shape{2, 0});
  CHECK(mul(zeros({0}), scalar(2)).shape() == Shape{0});
  CHECK(exp(zeros({3, 0})).shape() == Shape{3, 0});
  CHECK_THROWS_WITH_AS(add(zeros({0}), zeros({2})),
                       "add: cannot broadcast (0,) with (2,): sizes 0 and 2 at dim 0 differ and neither is 1",
                       Error);
}

TEST_CASE("binary ops name themselves and both shapes when shapes do not broadcast") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  CHECK_THROWS_WITH_AS(
      add(a, b), "add: cannot broadcast (2, 3) with (4,): sizes 3 and 4 at dim 1 differ and neither is 1",
      Error);
  CHECK_THROWS_WITH_AS(
      a * b, "mul: cannot broadcast (2, 3) with (4,): sizes 3 and 4 at dim 1 differ and neither is 1", Error);
  CHECK_THROWS_WITH_AS(
      maximum(zeros({2, 3}), zeros({3, 3})),
      "maximum: cannot broadcast (2, 3) with (3, 3): sizes 2 and 3 at dim 0 differ and neither is 1", Error);
  CHECK_THROWS_WITH_AS(
      lt(b, a), "lt: cannot broadcast (4,) with (2, 3): sizes 4 and 3 at dim 1 differ and neither is 1",
      Error);
  CHECK_THROWS_WITH_AS(exp(Tensor()), "exp: the tensor is undefined", Error);
  CHECK_THROWS_WITH_AS(sub(a, Tensor()), "sub: the tensor is undefined", Error);
}

TEST_CASE("operators: tensor-tensor, tensor-scalar, scalar-tensor and unary minus") {
  Tensor a{1, 2, 4}, b{2, 4, 8};
  CHECK((a + b).to_vector() == V{3, 6, 12});
  CHECK((a - b).to_vector() == V{-1, -2, -4});
  CHECK((a * b).to_vector() == V{2, 8, 32});
  CHECK((a / b).to_vector() == V{0.5f, 0.5f, 0.5f});
  CHECK((a + 1).to_vector() == V{2, 3, 5});
  CHECK((a - 1).to_vector() == V{0, 1, 3});
  CHECK((a * 3).to_vector() == V{3, 6, 12});
  CHECK((a / 2).to_vector() == V{0.5f, 1, 2});
  CHECK((1 + a).to_vector() == V{2, 3, 5});
  CHECK((1 - a).to_vector() == V{0, -1, -3});
  CHECK((3 * a).to_vector() == V{3, 6, 12});
  CHECK((8 / a).to_vector() == V{8, 4, 2});
  CHECK((-a).to_vector() == V{-1, -2, -4});
  CHECK((transpose(Tensor{{1, 2}, {3, 4}}, 0, 1) * 2).to_vector() == V{2, 6, 4, 8});
}

TEST_CASE("add_ accumulates through a view, broadcasting src") {
  Tensor t = zeros({2, 4});
  add_(slice(t, 1, 1, 4, 2), Tensor{1, 2});
  add_(slice(t, 1, 1, 4, 2), reshape(Tensor{10, 20}, {2, 1}));
  CHECK(t.to_vector() == V{0, 11, 0, 12, 0, 21, 0, 22});
  add_(t, t);
  CHECK(t.to_vector() == V{0, 22, 0, 24, 0, 42, 0, 44});
  Tensor u = Tensor{{1, 2}, {3, 4}};
  add_(transpose(u, 0, 1), Tensor{{1, 2}, {3, 4}});
  CHECK(u.to_vector() == V{2, 5, 5, 8});
}

TEST_CASE("mul_ scales through a view") {
  Tensor t = Tensor{{1, 2, 3}, {4, 5, 6}};
  mul_(select(t, 1, 1), 10);
  CHECK(t.to_vector() == V{1, 20, 3, 4, 50, 6});
  mul_(transpose(t, 0, 1), 2);
  CHECK(t.to_vector() == V{2, 40, 6, 8, 100, 12});
  mul_(zeros({0}), 2);  // nothing to do
}

TEST_CASE("add_ and mul_ reject shapes that would change dst, and expanded dst") {
  Tensor t = zeros({3});
  CHECK_THROWS_WITH_AS(add_(t, zeros({2, 3})),
                       "add_: cannot add a tensor of shape (2, 3) into one of shape (3,)", Error);
  CHECK_THROWS_WITH_AS(
      add_(t, zeros({2})),
      "add_: cannot broadcast (3,) with (2,): sizes 3 and 2 at dim 0 differ and neither is 1", Error);
  Tensor e = expand(zeros({1, 3}), {2, 3});
  CHECK_THROWS_WITH_AS(add_(e, ones({2, 3})),
                       "add_: cannot write in place into an expanded tensor (shape (2, 3), strides (0, 1))",
                       Error);
  CHECK_THROWS_WITH_AS(mul_(e, 2),
                       "mul_: cannot write in place into an expanded tensor (shape (2, 3), strides (0, 1))",
                       Error);
}

TEST_CASE("results are bitwise identical with 1 and 2 threads") {
  Generator gen(11);
  Tensor x = randn({300, 1001}, gen), b = randn({1001}, gen);
  Tensor xt = transpose(randn({1001, 300}, gen), 0, 1);
  int saved = num_threads();
  std::vector<Tensor> results[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    results[threads - 1] = {exp(x), gelu(xt), x + b, xt * x, maximum(xt, b), sigmoid(x)};
    Tensor acc = clone(x);
    add_(acc, xt);
    mul_(acc, 0.5f);
    results[threads - 1].push_back(acc);
  }
  set_num_threads(saved);
  for (size_t i = 0; i < results[0].size(); ++i) CHECK(equal(results[0][i], results[1][i]));
}

TEST_CASE("relu_, relu_backward_ and dropout_ equal their out-of-place forms") {
  Tensor x = heed::testing::randn_({37, 29}, 70), g = heed::testing::randn_({37, 29}, 71);
  Tensor r = clone(x);
  relu_(r);
  CHECK(equal(r, relu(x)));
  Tensor d = clone(r);
  relu_backward_(d, g);
  CHECK(equal(d, g * gt(r, scalar(0.0f))));
  Tensor y = clone(x);
  dropout_(y, 0.4f, 1234);
  CHECK(equal(y, dropout(x, 0.4f, 1234)));
  CHECK_THROWS_AS(relu_(transpose(clone(x), 0, 1)), Error);
}
