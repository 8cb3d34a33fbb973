// Layer normalization's row passes (tensor/layer_norm.cpp) against a plain
// double-precision twin, on rows shorter and longer than the 16 lanes they sum
// in, and the same bits for any thread count. autograd's layer_norm, built on
// them, is gradchecked in tests/autograd and checked against PyTorch in tests/nn.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tests/testing.h"

using namespace heed;
using heed::testing::randn_;

namespace {

struct Naive {
  std::vector<double> y, dx;
};

// Row by row in double: y = xhat w + b; dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)).
Naive naive(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& g, double eps) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  Naive n{std::vector<double>(size_t(x.numel())), std::vector<double>(size_t(x.numel()))};
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x.data() + r * d, *gr = g.data() + r * d;
    double mean = 0, var = 0, m1 = 0, m2 = 0;
    for (int64_t j = 0; j < d; ++j) mean += in[j] / double(d);
    for (int64_t j = 0; j < d; ++j) var += (in[j] - mean) * (in[j] - mean) / double(d);
    const double s = 1 / std::sqrt(var + eps);
    for (int64_t j = 0; j < d; ++j) {
      const double h = (in[j] - mean) * s, dh = gr[j] * double(w.data()[j]);
      n.y[size_t(r * d + j)] = h * w.data()[j] + b.data()[j];
      m1 += dh / double(d);
      m2 += dh * h / double(d);
    }
    for (int64_t j = 0; j < d; ++j) {
      const double h = (in[j] - mean) * s;
      n.dx[size_t(r * d + j)] = s * (gr[j] * double(w.data()[j]) - m1 - h * m2);
    }
  }
  return n;
}

double max_error(const Tensor& t, const std::vector<double>& want) {
  double worst = 0;
  for (int64_t i = 0; i < t.numel(); ++i) worst = std::max(worst, std::abs(t.data()[i] - want[size_t(i)]));
  return worst;
}

}  // namespace

TEST_CASE("layer_norm and its backward equal a double-precision twin, for rows of any length") {
  for (int64_t d : {1, 3, 16, 17, 63, 65, 128, 300}) {
    Tensor x = randn_({7, d}, 1) * 3.0f + 2.0f, w = randn_({d}, 2), b = randn_({d}, 3), g = randn_({7, d}, 4);
    LayerNormResult r = layer_norm(x, w, b, 1e-5f);
    Naive want = naive(x, w, b, g, 1e-5);
    CHECK_MESSAGE(max_error(r.y, want.y) < 1e-4, "d = ", d);
    CHECK_MESSAGE(max_error(layer_norm_backward(g, r.xhat, r.rstd, w), want.dx) < 1e-4, "d = ", d);
  }
}

TEST_CASE("layer_norm gives the same bits on one thread and on two") {
  Tensor x = randn_({1024, 128}, 5), w = randn_({128}, 6), b = randn_({128}, 7), g = randn_({1024, 128}, 8);
  LayerNormResult two = layer_norm(x, w, b, 1e-5f);
  Tensor dx_two = layer_norm_backward(g, two.xhat, two.rstd, w);
  const int saved = num_threads();
  set_num_threads(1);
  LayerNormResult one = layer_norm(x, w, b, 1e-5f);
  Tensor dx_one = layer_norm_backward(g, one.xhat, one.rstd, w);
  set_num_threads(saved);
  CHECK(equal(one.y, two.y));
  CHECK(equal(one.rstd, two.rstd));
  CHECK(equal(dx_one, dx_two));
}

TEST_CASE("layer_norm reads strided rows, takes empty batches, and names mismatched shapes") {
  Tensor x = randn_({5, 8}, 9), w = randn_({5}, 10), b = randn_({5}, 11);
  Tensor t = transpose(x, 0, 1);  // (8, 5), not contiguous
  CHECK(equal(layer_norm(t, w, b, 1e-5f).y, layer_norm(contiguous(t), w, b, 1e-5f).y));
  CHECK(layer_norm(empty({0, 5}), w, b, 1e-5f).y.numel() == 0);
  CHECK_THROWS_WITH_AS(layer_norm(x, w, b, 1e-5f),
                       "layer_norm: x of shape (5, 8) needs weight and bias of shape (8,), got (5,) and (5,)",
                       Error);
}

TEST_CASE("layer_norm without xhat gives the same y, and xhat comes back from y where the weights allow") {
  for (int64_t d : {1, 5, 16, 33, 128}) {
    Tensor x = randn_({9, d}, 12) * 3.0f + 2.0f, w = 1.0f + 0.5f * randn_({d}, 13), b = randn_({d}, 14);
    LayerNormResult full = layer_norm(x, w, b, 1e-5f), lean = layer_norm(x, w, b, 1e-5f, /*keep_xhat=*/false);
    CHECK_FALSE(lean.xhat.defined());
    CHECK(equal(lean.y, full.y));
    CHECK(equal(lean.rstd, full.rstd));
    if (!layer_norm_recomputes_xhat(w, b)) continue;
    Tensor xhat = clone(lean.y);
    layer_norm_xhat_(xhat, w, b);
    CHECK_MESSAGE(allclose(xhat, full.xhat, 1e-5f, 4e-6f), "d = ", d);
  }
}

TEST_CASE(
    "layer_norm_recomputes_xhat refuses zero, subnormal and non-finite weights and a bias over 16 |w|") {
  Tensor b = Tensor{0.5f, -1.0f, 0.0f};
  CHECK(layer_norm_recomputes_xhat(Tensor{1.0f, -0.1f, 1e-30f}, b));
  CHECK(layer_norm_recomputes_xhat(Tensor{1.0f, -0.0625f, 2.0f}, b));  // |b| = 16 |w| exactly
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, -0.0624f, 2.0f}, b));
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, 0.0f, 2.0f}, Tensor{0.0f, 0.0f, 0.0f}));
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, 1e-40f, 2.0f}, Tensor{0.0f, 0.0f, 0.0f}));
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, INFINITY, 2.0f}, Tensor{0.0f, 0.0f, 0.0f}));
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, NAN, 2.0f}, Tensor{0.0f, 0.0f, 0.0f}));
  CHECK_FALSE(layer_norm_recomputes_xhat(Tensor{1.0f, 1.0f, 2.0f}, Tensor{0.0f, NAN, 0.0f}));
}
