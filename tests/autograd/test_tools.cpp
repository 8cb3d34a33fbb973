// The tools around backward: gradcheck's report, anomaly mode and to_dot.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "autograd/autograd.h"

using namespace heed;

namespace {

// tanh with a deliberately wrong backward (the derivative of sin instead).
Variable wrong_tanh(const Variable& x) {
  Tensor y = tanh(x.value());
  return record("wrong_tanh", y, {x},
                [x = x.value()](const Tensor& grad) { return Grads{grad * (1.0f - x * x)}; });
}

}  // namespace

// ------------------------------------------------------------- gradcheck
TEST_CASE("gradcheck reports the worst element of a wrong backward") {
  Tensor x = Tensor{0.1f, 0.5f, 1.0f};
  GradcheckResult result = gradcheck([](const std::vector<Variable>& v) { return wrong_tanh(v[0]); }, {x});
  CHECK_FALSE(result);
  INFO(result.report);
  // Element 2 is the worst: its analytic derivative has 1 - 1^2 = 0 where tanh'(1) = 0.42.
  CHECK(result.report.find("gradcheck failed for 2 of 3 elements of d sum(f(x) * r) / dx, r a fixed random "
                           "projection (eps 0.01, atol 0.002, rtol 0.01)\n  worst: input 0, element 2 (2,): "
                           "analytic 0, numeric ") == 0);
  CHECK(result.report.find(", relative error 1\n") != std::string::npos);
  std::ostringstream printed;
  printed << result;
  CHECK(printed.str() == result.report);
}

TEST_CASE("gradcheck passes a correct backward and restores its inputs exactly") {
  Tensor x = Tensor{0.1f, 0.5f, 1.0f};
  std::vector<float> before = x.to_vector();
  GradcheckResult result = gradcheck([](const std::vector<Variable>& v) { return tanh(v[0]); }, {x});
  CHECK(result);
  CHECK(result.report.empty());
  CHECK(x.to_vector() == before);
}

TEST_CASE("gradcheck treats an input f ignores as having zero gradient") {
  CHECK(gradcheck([](const std::vector<Variable>& v) { return exp(v[0]); }, {Tensor{1, 2}, Tensor{3, 4}}));
}

TEST_CASE("gradcheck and to_dot reject what they cannot use") {
  CHECK_THROWS_WITH_AS(gradcheck([](const std::vector<Variable>&) { return Variable(); }, {Tensor{1.0f}}),
                       "gradcheck: f returned an undefined Variable", Error);
  CHECK_THROWS_WITH_AS(gradcheck([](const std::vector<Variable>& v) { return v[0]; }, {Tensor()}),
                       "gradcheck: input 0 is undefined", Error);
  CHECK_THROWS_WITH_AS(to_dot(Variable()), "to_dot: the Variable is undefined (default-constructed)", Error);
}

TEST_CASE("gradcheck refuses an expanded input") {
  Tensor e = expand(Tensor{1.0f}, {3});
  CHECK_THROWS_WITH_AS(gradcheck([](const std::vector<Variable>& v) { return v[0]; }, {e}),
                       "gradcheck: input 0 of shape (3,) is an expanded view whose elements alias; pass "
                       "contiguous() of it",
                       Error);
}

// ------------------------------------------------------------- anomaly mode
TEST_CASE("anomaly mode names the op that first made a NaN in the forward pass") {
  detail::restart_sequence();
  AnomalyGuard anomaly;
  Variable x(Tensor{-1, 2, 3}, true);
  x.set_name("x");
  Variable y = x * 2.0f;
  CHECK_THROWS_WITH_AS(
      log(y), "anomaly: log #2 produced NaN (first at element 0 of (3,)) from the (3,) output of mul #1",
      Error);
  y.set_name("y");
  CHECK_THROWS_WITH_AS(log(y), "anomaly: log #3 produced NaN (first at element 0 of (3,)) from 'y' (3,)",
                       Error);
}

TEST_CASE("anomaly mode says when an input already held the NaN") {
  detail::restart_sequence();
  AnomalyGuard anomaly;
  Variable w(Tensor{NAN, 1}, true);
  w.set_name("w");
  CHECK_THROWS_WITH_AS(
      w * 2.0f,
      "anomaly: mul #1 produced NaN (first at element 0 of (2,)) from 'w' (2,); input 0 already "
      "held non-finite values, so look upstream of it",
      Error);
}

TEST_CASE("anomaly mode names the op whose backward first made an Inf") {
  detail::restart_sequence();
  Variable x(Tensor{0, 4}, true);
  x.set_name("x");
  Variable loss = sum(sqrt(x));  // finite forward; d sqrt(x)/dx = 1/(2 sqrt(0)) = Inf
  {
    AnomalyGuard anomaly;
    CHECK_THROWS_WITH_AS(
        loss.backward(),
        "anomaly: the backward of sqrt #1 produced Inf (first at element 0 of (2,)) in the gradient "
        "for its input 0, 'x' (2,); the gradient it received was finite",
        Error);
  }
  CHECK_FALSE(anomaly_enabled());
}

TEST_CASE("anomaly mode names an op and each of its inputs once") {
  detail::restart_sequence();
  AnomalyGuard anomaly;
  Variable x(Tensor{1.0f}, true);
  Variable d = x - x;  // sub #1: 0
  CHECK_THROWS_WITH_AS(
      log(d), "anomaly: log #2 produced -Inf (first at element 0 of (1,)) from the (1,) output of sub #1",
      Error);
  CHECK_THROWS_WITH_AS(
      d / d, "anomaly: div #3 produced NaN (first at element 0 of (1,)) from the (1,) output of sub #1",
      Error);
  Variable y = sqrt(x - 1.0f);  // sqrt(0): finite, but its backward divides by 0
  CHECK_THROWS_WITH_AS(
      sum(y).backward(),
      "anomaly: the backward of sqrt #5 produced Inf (first at element 0 of (1,)) in the gradient "
      "for its input 0, the (1,) output of sub #4; the gradient it received was finite",
      Error);
}

TEST_CASE("HEED_DETECT_ANOMALY=1 turns anomaly mode on for threads started after it is set") {
  setenv("HEED_DETECT_ANOMALY", "1", 1);
  bool on = false;
  std::thread([&] { on = anomaly_enabled(); }).join();
  unsetenv("HEED_DETECT_ANOMALY");
  CHECK(on);
  std::thread([&] { on = anomaly_enabled(); }).join();
  CHECK_FALSE(on);
}

TEST_CASE("anomaly mode is off by default and does not stop non-finite values then") {
  CHECK_FALSE(anomaly_enabled());
  Variable x(Tensor{-1.0f}, true);
  CHECK(std::isnan(log(x).item()));
  AnomalyGuard on;
  {
    AnomalyGuard off(false);
    CHECK(std::isnan(log(x).item()));
  }
  CHECK(anomaly_enabled());
}

// ------------------------------------------------------------- to_dot
TEST_CASE("to_dot draws each op with its number and shape, and each leaf with its name") {
  detail::restart_sequence();
  Variable x = Tensor{{1, 2, 3}, {4, 5, 6}};  // a constant
  Variable w(ones({3, 4}), true);
  w.set_name("w");
  Variable h = tanh(matmul(x, w));
  Variable loss = sum(h * h).set_name("loss");
  std::string dot = to_dot(loss);
  INFO(dot);
  CHECK(dot.find("digraph heed {") == 0);
  CHECK(dot.find("label=\"loss\\nsum #4\\n()\"") != std::string::npos);
  CHECK(dot.find("label=\"mul #3\\n(2, 4)\"") != std::string::npos);
  CHECK(dot.find("label=\"tanh #2\\n(2, 4)\"") != std::string::npos);
  CHECK(dot.find("label=\"matmul #1\\n(2, 4)\"") != std::string::npos);
  CHECK(dot.find("label=\"w\\n(3, 4)\"") != std::string::npos);
  CHECK(dot.find("label=\"constant\\n(2, 3)\", color=grey") != std::string::npos);
  // 6 boxes and ellipses; tanh feeds mul twice (h * h).
  size_t edges = 0;
  for (size_t at = dot.find("->"); at != std::string::npos; at = dot.find("->", at + 1)) ++edges;
  CHECK(edges == 6);
  CHECK(dot.back() == '\n');
}
