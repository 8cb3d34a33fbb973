// backward(): how gradients flow, accumulate and are freed, and every error it gives.
#include <doctest/doctest.h>

#include <thread>

#include "autograd/autograd.h"

using namespace heed;

namespace {

bool close(const Tensor& a, const Tensor& b) { return allclose(a, b, 1e-5f, 1e-6f); }

}  // namespace

TEST_CASE("a leaf is made by the user and a non-leaf by an op") {
  Variable x(Tensor{1, 2, 3}, /*requires_grad=*/true);
  Variable y = x * 2.0f;
  CHECK(x.is_leaf());
  CHECK(x.op() == "leaf");
  CHECK_FALSE(y.is_leaf());
  CHECK(y.op() == "mul");
  CHECK(y.requires_grad());
  CHECK_FALSE(x.grad().defined());  // allocated only when backward reaches it
}

TEST_CASE("an op on constants only records nothing") {
  int64_t before = detail::live_nodes();
  Variable c = Tensor{1, 2};
  Variable y = exp(c) + c;
  CHECK_FALSE(y.requires_grad());
  CHECK(y.is_leaf());
  CHECK(detail::live_nodes() == before);
}

TEST_CASE("a scalar output back-propagates with an implicit gradient of 1") {
  Variable x(Tensor{1, 2, 3}, true);
  Variable loss = sum(x * x);
  loss.backward();
  CHECK(close(x.grad(), Tensor{2, 4, 6}));
}

TEST_CASE("a diamond graph accumulates both paths") {
  // x -> a = 3x, b = x^2 -> y = a * b = 3 x^3, dy/dx = 9 x^2
  Variable x(Tensor{1, 2}, true);
  Variable a = x * 3.0f;
  Variable b = x * x;
  sum(a * b).backward();
  CHECK(close(x.grad(), Tensor{9, 36}));
}

TEST_CASE("an input used twice by one op gets both gradients") {
  Variable x(Tensor{3}, true);
  sum(x + x).backward();
  CHECK(close(x.grad(), Tensor{2}));
}

TEST_CASE("gradients accumulate into leaves across two backward calls") {
  Variable x(Tensor{1, 2}, true);
  sum(x * 3.0f).backward();
  sum(x * 3.0f).backward();
  CHECK(close(x.grad(), Tensor{6, 6}));
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  sum(x * 5.0f).backward();
  CHECK(close(x.grad(), Tensor{5, 5}));
}

TEST_CASE("a leaf's gradient never aliases a tensor the graph or the caller holds") {
  Variable x(Tensor{1, 2}, true);
  Tensor seed = Tensor{1, 1};
  (x + 0.0f).backward(seed);
  mul_(x.grad(), 10.0f);  // what gradient clipping does
  CHECK(close(seed, Tensor{1, 1}));
}

TEST_CASE("a non-scalar output back-propagates the gradient it is given") {
  Variable x(Tensor{1, 2}, true);
  Variable y = x * x;
  y.backward(Tensor{1, 10});
  CHECK(close(x.grad(), Tensor{2, 40}));
}

TEST_CASE("backward of a leaf gives it a gradient of one") {
  Variable x(scalar(4.0f), true);
  x.backward();
  CHECK(x.grad().item() == 1.0f);
}

TEST_CASE("a Variable that does not require grad gets no gradient") {
  Variable x(Tensor{1, 2}, true);
  Variable c = Tensor{5, 7};
  sum(x * c).backward();
  CHECK(close(x.grad(), Tensor{5, 7}));
  CHECK_FALSE(c.grad().defined());
}

TEST_CASE("a 100,000-op chain back-propagates and is destroyed without recursion") {
  int64_t before = detail::live_nodes();
  Variable x(Tensor{1.0f}, true);
  {
    Variable h = x;
    for (int i = 0; i < 100000; ++i) h = h * 1.0f;
    CHECK(detail::live_nodes() == before + 100000);
    h.backward();
    CHECK(x.grad().item() == 1.0f);
  }
  CHECK(detail::live_nodes() == before);
  {  // never back-propagated: freed when the last Variable goes
    Variable h = x;
    for (int i = 0; i < 100000; ++i) h = tanh(h);
    CHECK(detail::live_nodes() == before + 100000);
  }
  CHECK(detail::live_nodes() == before);
}

TEST_CASE("the node counter proves the graph is freed: by backward, and when its Variables go") {
  int64_t before = detail::live_nodes();
  Variable w(Tensor{{1, 2}, {3, 4}}, true);
  Variable x = Tensor{{1, 0}, {0, 1}};
  {
    Variable loss = sum(tanh(matmul(x, w)) * 2.0f);
    CHECK(detail::live_nodes() == before + 4);
    loss.backward();
    CHECK(detail::live_nodes() == before + 1);  // loss's own node stays, emptied
  }
  CHECK(detail::live_nodes() == before);
  {
    Variable h = exp(w);
    Variable loss = sum(h * h);
    loss.backward(Tensor(), /*retain_graph=*/true);
    CHECK(detail::live_nodes() == before + 3);
  }
  CHECK(detail::live_nodes() == before);
}

TEST_CASE("retain_graph lets backward run through a graph twice") {
  Variable x(Tensor{1, 2}, true);
  Variable loss = sum(x * x);
  loss.backward(Tensor(), /*retain_graph=*/true);
  loss.backward();
  CHECK(close(x.grad(), Tensor{4, 8}));
}

TEST_CASE("a second backward through a freed graph is an error") {
  detail::restart_sequence();
  Variable x(Tensor{1, 2}, true);
  Variable h = x * 2.0f;
  Variable loss = sum(h);
  loss.backward();
  CHECK_THROWS_WITH_AS(loss.backward(),
                       "backward: the graph behind sum #2 was freed by an earlier backward(); pass "
                       "retain_graph = true to the first backward() to go through the graph again",
                       Error);
  CHECK_THROWS_WITH_AS(sum(h).backward(),
                       "backward: the graph behind mul #1 was freed by an earlier backward(); pass "
                       "retain_graph = true to the first backward() to go through the graph again",
                       Error);
}

TEST_CASE("a non-scalar output needs an explicit gradient") {
  Variable x(Tensor{{1, 2, 3}, {4, 5, 6}}, true);
  CHECK_THROWS_WITH_AS((x * 2.0f).backward(),
                       "backward: the output has shape (2, 3); only a one-element output starts backward "
                       "without a gradient: pass d loss / d output of that shape, or reduce the output first "
                       "(e.g. sum)",
                       Error);
  CHECK_THROWS_WITH_AS((x * 2.0f).backward(Tensor{1, 2}),
                       "backward: the gradient has shape (2,) but the output has shape (2, 3)", Error);
}

TEST_CASE("backward of a constant is an error") {
  Variable c = Tensor{1.0f};
  CHECK_THROWS_WITH_AS(
      c.backward(),
      "backward: this Variable does not require a gradient: it is a constant, or no input of "
      "the ops that made it requires one (or they ran under NoGradGuard)",
      Error);
}

TEST_CASE("a gradient of the wrong shape is caught, naming both shapes") {
  detail::restart_sequence();
  Variable x(Tensor{{1, 2}, {3, 4}}, true);
  Variable y = record("broken", x.value() * 2.0f, {x}, [](const Tensor& grad) {
    return Grads{sum(grad, {0})};  // (2,), but x is (2, 2)
  });
  CHECK_THROWS_WITH_AS(
      sum(y).backward(),
      "backward: broken #1 gave input 0 a gradient of shape (2,) but that input has shape (2, 2)", Error);
  // The error came before any gradient reached x.
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a backward that returns the wrong number of gradients is caught") {
  detail::restart_sequence();
  Variable x(Tensor{1.0f}, true);
  Variable y = record("broken", x.value(), {x}, [](const Tensor& grad) { return Grads{grad, grad}; });
  CHECK_THROWS_WITH_AS(y.backward(),
                       "backward: the backward of broken #1 returned 2 gradients for its 1 inputs", Error);
}

TEST_CASE("NoGradGuard records nothing, and restores recording when it ends") {
  int64_t before = detail::live_nodes();
  Variable x(Tensor{1, 2}, true);
  {
    NoGradGuard no_grad;
    CHECK_FALSE(grad_enabled());
    Variable y = tanh(x * 2.0f);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK(detail::live_nodes() == before);
    { NoGradGuard nested; }
    CHECK_FALSE(grad_enabled());
  }
  CHECK(grad_enabled());
  CHECK((x * 2.0f).requires_grad());
}

TEST_CASE("NoGradGuard is per thread") {
  NoGradGuard no_grad;
  bool other_thread_records = false;
  std::thread([&] { other_thread_records = grad_enabled(); }).join();
  CHECK(other_thread_records);
}

TEST_CASE("detach cuts a Variable from the graph and shares its value") {
  Variable x(Tensor{1, 2}, true);
  Variable y = x * 3.0f;
  Variable d = y.detach();
  CHECK(d.is_leaf());
  CHECK_FALSE(d.requires_grad());
  CHECK(d.value().data() == y.value().data());
  sum(d * x).backward();
  CHECK(close(x.grad(), Tensor{3, 6}));  // d counted as a constant
}

TEST_CASE("set_value, set_grad and set_requires_grad check their arguments") {
  Variable x(Tensor{1, 2}, true);
  x.set_value(Tensor{5, 6});
  CHECK(close(x.value(), Tensor{5, 6}));
  CHECK_THROWS_WITH_AS(x.set_value(Tensor{1, 2, 3}),
                       "set_value: the new value has shape (3,) but the Variable has shape (2,)", Error);
  CHECK_THROWS_WITH_AS(x.set_grad(Tensor{1.0f}),
                       "set_grad: the gradient has shape (1,) but the Variable has shape (2,)", Error);
  CHECK_THROWS_WITH_AS(
      (x * 2.0f).set_requires_grad(false),
      "set_requires_grad: only a leaf's flag can change, and mul made this Variable; use detach() "
      "for a leaf with the same value",
      Error);
  CHECK_THROWS_WITH_AS(Variable().value(), "Variable::value: the Variable is undefined (default-constructed)",
                       Error);
  CHECK_THROWS_WITH_AS(Variable{Tensor()}, "Variable: cannot hold an undefined tensor", Error);
}

TEST_CASE("a name set on a Variable is kept") {
  Variable w(Tensor{1.0f}, true);
  w.set_name("w");
  CHECK(w.name() == "w");
}
