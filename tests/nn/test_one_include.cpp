// What a learner's first program sees: nn/nn.h alone gives the whole public
// API, and the first things it writes compile as written.
#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "nn/nn.h"

using namespace heed;

TEST_CASE("nn/nn.h alone gives tensors, autograd with gradcheck and AnomalyGuard, and nn") {
  Generator gen(0);
  Tensor x = randn({2, 3}, gen);
  CHECK(gradcheck([](const std::vector<Variable>& v) { return tanh(v[0]); }, {x}));
  Variable w(x, /*requires_grad=*/true);
  {
    AnomalyGuard anomaly;
    CHECK_THROWS_AS(log(w - 10.0f), Error);  // log of a negative is NaN: anomaly mode names the op
  }
  {
    NoGradGuard no_grad;
    CHECK_FALSE(matmul(w, transpose(w, 0, 1)).requires_grad());
  }
  nn::Linear linear({.in_features = 3, .out_features = 2});
  Variable loss = nn::CrossEntropyLoss{}(linear.forward(w), Tensor{0, 1});
  loss.backward();
  CHECK(w.grad().shape() == x.shape());
  CHECK(to_dot(loss).find("digraph") != std::string::npos);
}

// A Tensor converts to a Variable, so cat({a, b}, 0) on Tensors matched both
// cat(std::vector<Tensor>) and cat(std::vector<Variable>): ambiguous.
TEST_CASE("cat and stack of a braced list compile for Tensors, Variables and a mix, and keep its type") {
  Tensor a{{1, 2}}, b{{3, 4}};
  Variable va(a, /*requires_grad=*/true), vb(b);
  static_assert(std::is_same_v<decltype(cat({a, b}, 0)), Tensor>);
  static_assert(std::is_same_v<decltype(stack({a, b}, 0)), Tensor>);
  static_assert(std::is_same_v<decltype(cat({va, vb}, 0)), Variable>);
  static_assert(std::is_same_v<decltype(stack({va, vb}, 0)), Variable>);
  static_assert(std::is_same_v<decltype(cat({a, vb}, 0)), Variable>);
  static_assert(std::is_same_v<decltype(stack({va, b}, 0)), Variable>);
  CHECK(equal(cat({a, b}, 0), Tensor{{1, 2}, {3, 4}}));
  CHECK(equal(stack({a, b}, 0), Tensor{{{1, 2}}, {{3, 4}}}));
  CHECK(equal(cat({va, vb}, 1).value(), Tensor{{1, 2, 3, 4}}));
  CHECK(equal(stack({va, b}, 0).value(), Tensor{{{1, 2}}, {{3, 4}}}));
  sum(cat({va, b}, 0)).backward();
  CHECK(equal(va.grad(), Tensor{{1, 1}}));
  std::vector<Tensor> pieces{a, b};  // a vector still works
  CHECK(equal(cat(pieces, 1), Tensor{{1, 2, 3, 4}}));
}
