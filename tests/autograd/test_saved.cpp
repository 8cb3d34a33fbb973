// What a graph keeps (only what its backward reads), what it catches (in-place
// writes to a saved tensor), and how sequence slicing flows back (unbind and
// views whose gradient lands in a region of their input's).
#include <doctest/doctest.h>

#include <functional>

#include "autograd/autograd.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;

namespace {

bool close(const Tensor& a, const Tensor& b) { return allclose(a, b, 1e-5f, 1e-6f); }
using Vars = std::vector<Variable>;

// The gradients f gives its inputs when only those in `needs` require one.
std::vector<Tensor> grads_with(const std::function<Variable(const Vars&)>& f, const std::vector<Tensor>& xs,
                               const std::vector<bool>& needs) {
  Vars vs;
  for (size_t i = 0; i < xs.size(); ++i) vs.emplace_back(xs[i], needs[i]);
  sum(f(vs) * f(vs)).backward();
  std::vector<Tensor> out;
  for (const Variable& v : vs) out.push_back(v.grad());
  return out;
}

// Each input's gradient is the same whether the other inputs need one or not.
void check_subsets(const std::function<Variable(const Vars&)>& f, const std::vector<Tensor>& xs) {
  std::vector<Tensor> all = grads_with(f, xs, std::vector<bool>(xs.size(), true));
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<bool> only(xs.size(), false);
    only[i] = true;
    std::vector<Tensor> one = grads_with(f, xs, only);
    INFO("input ", i);
    CHECK(close(one[i], all[i]));
    for (size_t j = 0; j < xs.size(); ++j)
      if (j != i) CHECK_FALSE(one[j].defined());
  }
}

}  // namespace

// ------------------------------------------------------------- what the graph keeps
TEST_CASE("the graph of relu(x * w + b) keeps only x and relu's output when only w needs a gradient") {
  Tensor x = randn_({4, 3}, 1), b = randn_({3}, 2);
  Variable w(randn_({3}, 3), true);
  int64_t before = detail::live_storages();  // x, w and b
  Variable h = x * w;
  Variable z = h + b;
  Variable y = relu(z);
  CHECK(detail::live_storages() == before + 3);  // h, z and y, each also held by the user
  h = Variable();
  z = Variable();
  // mul saved x (w's gradient reads it: x is the user's already), add saved
  // nothing, relu saved y: the dropped intermediates are gone before backward.
  CHECK(detail::live_storages() == before + 1);
  y.backward(ones({4, 3}));
  Tensor pos = gt(x * w.value() + b, scalar(0.0f));
  CHECK(close(w.grad(), sum(x * pos, {0})));
}

TEST_CASE("mul saves b only if a needs a gradient, and a only if b does") {
  int64_t before = detail::live_storages();
  Variable w(Tensor{1, 2}, true);
  {
    Variable y = mul(Tensor{3, 4}, w);  // the constant (3, 4) is saved: w's gradient reads it
    CHECK(detail::live_storages() == before + 3);
    sum(y).backward();
    CHECK(close(w.grad(), Tensor{3, 4}));
  }
  w.zero_grad();
  {
    Variable y = mul(w, Tensor{3, 4});  // the same, from the other side
    CHECK(detail::live_storages() == before + 3);
  }
  {
    Variable y = mul(w.detach(), Tensor{3, 4});  // nothing needs a gradient: no graph, nothing kept
    CHECK(detail::live_storages() == before + 2);
  }
  {
    Variable a(Tensor{5, 6}, true);
    Variable y = mul(a, Tensor{3, 4}) * w;         // a * c saves c; (a c) * w saves both, as both need grads
    CHECK(detail::live_storages() == before + 5);  // w, a, c, a c, y
  }
}

TEST_CASE("matmul saves a only if b needs a gradient, and b only if a does") {
  Tensor a = randn_({5, 4}, 4), b = randn_({4, 3}, 5);
  int64_t before = detail::live_storages();
  {
    Variable wb(clone(b), true);
    Variable y = matmul(clone(a), wb);  // the clone of a stays: wb's gradient reads it
    CHECK(detail::live_storages() == before + 3);
  }
  {
    Variable wa(clone(a), true);
    Variable y = matmul(wa * 2.0f, clone(b));  // b stays; wa * 2 is not saved, so it is gone
    CHECK(detail::live_storages() == before + 3);
  }
  CHECK(detail::live_storages() == before);
}

TEST_CASE("add, sub, views and sum save no values at all") {
  Variable x(randn_({2, 3}, 6), true);
  Tensor c = randn_({2, 3}, 7);
  int64_t before = detail::live_storages();
  Variable loss = sum(transpose(reshape(x + c - x, {3, 2}), 0, 1), {0});
  CHECK(detail::live_storages() == before + 1);  // loss's own value: x + c and x + c - x are gone
  loss.backward(ones({3}));
  CHECK(close(x.grad(), zeros({2, 3})));
}

TEST_CASE("ops that save only what a needed gradient reads give the same gradients for any subset") {
  Tensor a = randn_({3, 4}, 8), b = randn_({4}, 9), m = randn_({4, 2}, 10);
  Tensor pos = abs(randn_({4}, 11)) + 0.5f;
  check_subsets([](const Vars& v) { return v[0] * v[1]; }, {a, b});
  check_subsets([](const Vars& v) { return v[0] / v[1]; }, {a, pos});
  check_subsets([](const Vars& v) { return matmul(v[0], v[1]); }, {a, m});
  check_subsets([](const Vars& v) { return matmul(v[1], v[0]); }, {m, b});  // a 1-D a
  check_subsets([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); }, {a, pos, b});
}

// ------------------------------------------------------------- in-place writes to saved tensors
TEST_CASE("add_ on a tensor mul saved is an error at backward that names the op, not a wrong gradient") {
  detail::restart_sequence();
  Tensor a = Tensor{1, 2};
  Variable w(Tensor{3, 4}, true);
  Variable y = sum(a * w);
  add_(a, Tensor{99, 99});  // mul saved a: w's gradient is the a it multiplied
  CHECK_THROWS_WITH_AS(
      y.backward(),
      "backward: mul #1 saved its input 0 (2,) for its gradient, but an in-place op (add_, "
      "mul_, copy_, fill_) wrote it afterwards (version 1, saved at version 0): write into a "
      "clone() instead, or do the in-place op before the tensor is used",
      Error);
}

TEST_CASE("an in-place write to an op's output that its backward reads is caught through any view") {
  detail::restart_sequence();
  Variable x(Tensor{0.5f, 1.0f}, true);
  Variable y = tanh(x);
  Variable loss = sum(y);
  fill_(select(y.value(), 0, 1), 1.0f);  // a view of tanh's output
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("backward: tanh #1 saved its output (2,)"), Error);
}

TEST_CASE("in-place writes to tensors no backward reads change nothing, and clone() is the way around") {
  Variable x(Tensor{0.5f, 1.0f}, true);
  Tensor c = Tensor{1, 2};
  Variable loss = sum(tanh(x + c));  // add saves nothing
  add_(c, Tensor{10, 10});
  loss.backward();
  Tensor t = tanh(Tensor{1.5f, 3.0f});
  CHECK(close(x.grad(), 1.0f - t * t));

  x.zero_grad();
  Tensor a = Tensor{1, 2};
  Variable y = sum(clone(a) * x);
  add_(a, Tensor{99, 99});
  y.backward();
  CHECK(close(x.grad(), Tensor{1, 2}));
}

// ------------------------------------------------------------- unbind and regions
TEST_CASE("unbind makes one node for all its pieces and passes gradcheck along any dim") {
  Variable x(randn_({2, 5, 3}, 12), true);
  int64_t before = detail::live_nodes();
  std::vector<Variable> steps = unbind(x, 1);
  CHECK(steps.size() == 5);
  CHECK(steps[2].shape() == Shape{2, 3});
  CHECK(steps[4].op() == "unbind");
  CHECK(detail::live_nodes() == before + 1);
  Tensor t = randn_({2, 5, 3}, 13);
  for (int64_t dim : {0, 1, 2, -1}) {
    INFO("dim ", dim);
    CHECK(gradcheck(
        [dim](const Vars& v) {
          std::vector<Variable> pieces = unbind(v[0], dim);
          Variable total = tanh(pieces[0]) * 2.0f;
          for (size_t i = 1; i < pieces.size(); ++i) total = total + pieces[i] * pieces[i];
          return total;
        },
        {t}));
  }
}

TEST_CASE("pieces of unbind that get no gradient get zeros, and backward can start from one piece") {
  Variable x(Tensor{{1, 2}, {3, 4}, {5, 6}}, true);
  std::vector<Variable> rows = unbind(x, 0);
  sum(rows[1] * 3.0f).backward();
  CHECK(close(x.grad(), Tensor{{0, 0}, {3, 3}, {0, 0}}));
  x.zero_grad();
  rows = unbind(x, 1);
  rows[0].backward(Tensor{1, 2, 3});
  CHECK(close(x.grad(), Tensor{{1, 0}, {2, 0}, {3, 0}}));
}

TEST_CASE("select, slice and narrow add their gradient into the region they came from, repeats included") {
  Tensor t = randn_({4, 6}, 14);
  CHECK(gradcheck(
      [](const Vars& v) {
        Variable x = v[0];
        return select(x, 0, 1) * 2.0f + select(x, 0, 1) + select(narrow(x, 0, 2, 1), 0, 0) * 3.0f +
               sum(x, {0}) + sum(slice(x, 0, 0, 4, 3), {0}) * select(x, 0, 3);
      },
      {t}));
}

TEST_CASE("a gradient of the whole and of regions add up in any order") {
  Tensor t = randn_({3, 4}, 15);
  CHECK(gradcheck(
      [](const Vars& v) {
        Variable x = v[0];
        std::vector<Variable> cols = unbind(x, 1);
        Variable s = exp(x) * 0.5f;  // the whole, between region gradients
        return sum(s, {1}) + cols[3] * cols[0] + sum(slice(x, 1, 1, 4, 2), {1}) +
               select(transpose(x, 0, 1), 0, 2);
      },
      {t}));
}
