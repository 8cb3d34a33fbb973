// Position schemes: what each must preserve, and what each must break.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "nn/attention/rotary.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

TEST_CASE("rotary: shifting both positions by the same amount leaves q . k unchanged") {
  Tensor q = randn_({1, 8}, 1), k = randn_({1, 8}, 2);
  // q at position i, k at position j, then both moved by 5: the rotation by
  // i theta and j theta leaves only (i - j) theta in q . k.
  for (auto [i, j] : {std::pair<int64_t, int64_t>{3, 1}, {0, 4}, {7, 7}}) {
    float before = sum(nn::rotary(q, i).value() * nn::rotary(k, j).value()).item();
    float after = sum(nn::rotary(q, i + 5).value() * nn::rotary(k, j + 5).value()).item();
    CHECK(after == doctest::Approx(before).epsilon(1e-5));
  }
  // and it does depend on the distance
  float near = sum(nn::rotary(q, 1).value() * nn::rotary(k, 0).value()).item();
  float far = sum(nn::rotary(q, 3).value() * nn::rotary(k, 0).value()).item();
  CHECK(std::abs(near - far) > 1e-3f);
}

TEST_CASE("rotary keeps every vector's norm and turns the pairs (2m, 2m + 1)") {
  Tensor x = randn_({2, 5, 6}, 3);
  Tensor y = nn::rotary(x).value();
  CHECK(allclose(sum(y * y, {-1}), sum(x * x, {-1}), 1e-5f, 1e-5f));
  CHECK(allclose(select(y, 1, 0), select(x, 1, 0)));  // position 0 does not turn
  // position 1, pair 0 turns by exactly 1 radian (theta_0 = 1)
  float x0 = x.at({0, 1, 0}), x1 = x.at({0, 1, 1});
  CHECK(y.at({0, 1, 0}) == doctest::Approx(x0 * std::cos(1.0f) - x1 * std::sin(1.0f)));
  CHECK(y.at({0, 1, 1}) == doctest::Approx(x0 * std::sin(1.0f) + x1 * std::cos(1.0f)));
  // with an offset, row t is position offset + t: a cache's next step
  CHECK(allclose(nn::rotary(narrow(Variable(x), 1, 3, 2), 3).value(), narrow(y, 1, 3, 2), 1e-6f, 1e-6f));
}

TEST_CASE("rotary passes gradcheck and names an odd head width") {
  CHECK(gradcheck([](const Vars& v) { return nn::rotary(v[0], 2); }, {randn_({2, 3, 4}, 4)}));
  CHECK_THROWS_WITH_AS(nn::rotary(Variable(zeros({3, 5}))),
                       "rotary: expected (..., T, Dh) with an even Dh, got (3, 5)", Error);
}
