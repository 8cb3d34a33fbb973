// Backward closures that write over what they saved (Saved::take): only in a
// backward that frees the graph, only when nothing else holds the storage, and
// with the same gradients as when they may not.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/autograd.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;

namespace {

using Vars = std::vector<Variable>;

// y = 2 x, whose backward notes whether it could take its saved copy of x.
Variable doubled(const Variable& x, bool* took) {
  Tensor kept = clone(x.value());
  return record("doubled", x.value() * 2.0f, {x}, [saved = Saved(kept), took](const Tensor& grad) {
    *took = saved.take().defined();
    return Grads{grad * 2.0f};
  });
}

// The gradients of sum(f(inputs) * c) for each input, after one backward
// (retain_graph as given).
std::vector<Tensor> grads_of(const std::function<Variable(const Vars&)>& f, const std::vector<Tensor>& xs,
                             bool retain_graph) {
  Vars vs;
  for (const Tensor& x : xs) vs.emplace_back(x, true);
  Variable y = f(vs);
  Variable loss = sum(y * randn_(y.shape(), 99));
  y = Variable();  // as in training: the graph is the only holder of what the ops saved
  loss.backward(Tensor(), retain_graph);
  std::vector<Tensor> out;
  for (const Variable& v : vs) out.push_back(v.grad());
  return out;
}

}  // namespace

TEST_CASE(
    "Saved::take hands over the tensor only in a backward that frees the graph and to its only holder") {
  Variable x(randn_({3}, 1), true);
  bool took = false;
  doubled(x, &took).backward(ones({3}));
  CHECK(took);
  doubled(x, &took).backward(ones({3}), /*retain_graph=*/true);
  CHECK_FALSE(took);  // a second backward would read it again
  // Outside backward() (a closure called by hand) nothing is the last use either.
  Tensor kept = clone(x.value());
  Saved saved(kept);
  kept = Tensor();
  CHECK_FALSE(saved.take().defined());
}

TEST_CASE("Saved::take refuses a storage that a Variable or a view still holds") {
  Variable x(randn_({4}, 2), true);
  bool took = true;
  Variable y =
      record("keeps its output", x.value() * 2.0f, {x}, [](const Tensor& grad) { return Grads{grad}; });
  Tensor out = y.value();
  Variable z = record("takes", exp(out), {y}, [saved = Saved(out), &took](const Tensor& grad) {
    took = saved.take().defined();
    return Grads{grad};
  });
  sum(z).backward();
  CHECK_FALSE(took);  // y (and `out`) still hold it
  Tensor view = narrow(x.value(), 0, 0, 2);
  Variable w = record("takes a view", exp(view), {x}, [saved = Saved(view), &took](const Tensor&) {
    took = saved.take().defined();
    return Grads{zeros({4})};
  });
  view = Tensor();
  sum(w).backward();
  CHECK_FALSE(took);  // x's storage: x holds it
}

// ------------------------------------------------------------- layer_norm
TEST_CASE("layer_norm keeps its output instead of xhat when weight and bias allow, else xhat") {
  Tensor x = randn_({16, 8}, 3);
  Variable w(1.0f + 0.1f * randn_({8}, 4), true), b(0.1f * randn_({8}, 5), true);
  Variable xv(x, true);
  const int64_t before = detail::live_storages();
  Variable y = layer_norm(xv, w, b);
  CHECK(detail::live_storages() == before + 2);  // y (also kept for backward) and rstd
  y = Variable();
  Variable w0(clone(w.value()), true);
  w0.value().data()[3] = 0.0f;  // xhat's column 3 is lost in y: keep xhat
  const int64_t with_w0 = detail::live_storages();
  Variable z = layer_norm(xv, w0, b);
  CHECK(detail::live_storages() == with_w0 + 3);  // z, xhat and rstd
}

TEST_CASE("layer_norm's gradients are the same with and without retain_graph, recomputed or kept xhat") {
  Tensor x = randn_({2, 5, 8}, 6) * 2.0f + 1.0f, b = 0.1f * randn_({8}, 8);
  Tensor w_ok = 1.0f + 0.1f * randn_({8}, 7), w_zero = w_ok * Tensor{1, 1, 0, 1, 1, 1, 1, 1};
  for (const Tensor& w : {w_ok, w_zero}) {
    auto f = [](const Vars& v) { return layer_norm(v[0], v[1], v[2]); };
    std::vector<Tensor> freed = grads_of(f, {x, w, b}, false), kept = grads_of(f, {x, w, b}, true);
    for (size_t i = 0; i < 3; ++i) CHECK(equal(freed[i], kept[i]));
  }
  // The recomputed xhat gives the gradients of the kept one, to float precision:
  // a bias of 1000 (|b| > 16 |w|, so xhat is kept) changes y but no gradient.
  auto recompute = [](const Vars& v) { return layer_norm(v[0], v[1], v[2]); };
  auto keep = [](const Vars& v) { return layer_norm(v[0], v[1], v[2] + 1000.0f); };
  std::vector<Tensor> a = grads_of(recompute, {x, w_ok, b}, false), c = grads_of(keep, {x, w_ok, b}, false);
  for (size_t i = 0; i < 3; ++i) CHECK(allclose(a[i], c[i], 1e-4f, 1e-5f));
}

TEST_CASE("layer_norm passes gradcheck from its output, and with a zero weight from xhat") {
  Tensor x = randn_({2, 3, 5}, 9) * 2.0f + 1.0f, b = 0.2f * randn_({5}, 11);
  Tensor w = 1.0f + 0.2f * randn_({5}, 10);
  REQUIRE(layer_norm_recomputes_xhat(w, b));
  CHECK(gradcheck([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w, b}));
  Tensor w_zero = w * Tensor{1, 0, 1, 1, 1};
  REQUIRE_FALSE(layer_norm_recomputes_xhat(w_zero, b));
  CHECK(gradcheck([](const Vars& v) { return layer_norm(v[0], v[1], v[2]); }, {x, w_zero, b}));
}

// ------------------------------------------------------------- cross_entropy
TEST_CASE(
    "cross_entropy keeps no (N, C) tensor of its own, and its gradient is the same when it writes over "
    "the logits") {
  Tensor target = Tensor{3, 0, -100, 9, 4, 1};
  for (float e : {0.0f, 0.1f}) {
    Tensor logits = randn_({6, 10}, 20) * 3.0f;
    Variable x(logits, true);
    const int64_t before = detail::live_storages();
    {
      Variable h = x * 1.0f;  // the op before it (a Linear, in a model): its output only the loss keeps
      Variable loss = cross_entropy(h, target, -100, e);
      h = Variable();
      CHECK(detail::live_storages() == before + 4);  // h's value (now the graph's), 2 row stats, the loss
      loss.backward();
    }
    Tensor freed = clone(x.grad());
    x.zero_grad();
    Variable h = x * 1.0f;
    Variable loss = cross_entropy(h, target, -100, e);
    loss.backward(Tensor(), /*retain_graph=*/true);  // and h is still held: both keep the logits
    CHECK(equal(freed, x.grad()));
    CHECK(equal(h.value(), logits));  // not written over
  }
}

// ------------------------------------------------------------- ops over a temporary
TEST_CASE("relu and dropout write over a temporary nothing else holds, and only then") {
  Generator gen(30);
  Variable x(randn_({64, 8}, 31), true);
  Tensor w = randn_({8, 8}, 32);
  for (bool is_relu : {true, false}) {
    auto op = [&](Variable&& v) {
      return is_relu ? relu(std::move(v)) : dropout(std::move(v), 0.25f, true, gen);
    };
    const int64_t before = detail::live_storages();
    Variable y = op(matmul(x, w));  // matmul's output: a temporary only y's op sees
    CHECK(detail::live_storages() == before + 1);
    Variable h = matmul(x, w);
    Variable z = op(std::move(Variable(h)));  // h still holds it: a new tensor
    CHECK(detail::live_storages() == before + 3);
    Variable leaf(randn_({64, 8}, 33), true);
    Variable u = op(std::move(leaf));  // a leaf that takes a gradient is never written over
    CHECK(detail::live_storages() == before + 5);
  }
}

TEST_CASE("relu and dropout over a temporary give the values and gradients of the ops on a held input") {
  Tensor xv = randn_({5, 7}, 34), w = randn_({7, 7}, 35), c = randn_({5, 7}, 36);
  for (bool is_relu : {true, false}) {
    std::vector<Tensor> got;
    for (bool temporary : {true, false}) {
      Generator gen(37);
      Variable x(xv, true);
      Variable h = matmul(x, w);
      Variable y = is_relu
                       ? (temporary ? relu(std::move(h)) : relu(h))
                       : (temporary ? dropout(std::move(h), 0.3f, true, gen) : dropout(h, 0.3f, true, gen));
      sum(y * c).backward();
      got.push_back(y.value());
      got.push_back(x.grad());
    }
    CHECK(equal(got[0], got[2]));
    CHECK(equal(got[1], got[3]));
  }
}

TEST_CASE("relu's gradient is the same when its backward writes over its output and when it may not") {
  Tensor x = randn_({6, 9}, 38);
  auto f = [](const Vars& v) { return relu(v[0] * 2.0f); };
  std::vector<Tensor> freed = grads_of(f, {x}, false), kept = grads_of(f, {x}, true);
  CHECK(equal(freed[0], kept[0]));
  CHECK(equal(freed[0], grads_of([](const Vars& v) { return relu(Variable(v[0] * 2.0f)); }, {x}, false)[0]));
}
