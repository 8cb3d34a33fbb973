// Layer normalization's row passes (declared in tensor/ops.h).
//
// Each row's sums run in 16 float lanes (one AVX-512 vector, two AVX2 ones),
// then add up in double: a sum in one accumulator is a chain of dependent adds,
// one per 4 cycles, which left these passes at 5% of a Transformer step; the
// lanes vectorize. The lane order is fixed by the row's length alone and rows
// are independent, so threads split the rows and every result is the same for
// any thread count.
#include <cmath>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"

namespace heed {

namespace {

constexpr int64_t kLanes = 16;

// sum_j f(j) over [0, d) in kLanes float lanes, combined in double.
template <class F>
double lane_sum(int64_t d, F f) {
  float lanes[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= d; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lanes[l] += f(j + l);
  double total = 0;
  for (; j < d; ++j) total += f(j);
  for (float lane : lanes) total += lane;
  return total;
}

// Rows per task: enough work (~32 Ki elements) to pay for waking a thread.
int64_t row_grain(int64_t d) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(d, 1)); }

}  // namespace

LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                           bool keep_xhat) {
  const int64_t d = x.dim() > 0 ? x.size(-1) : 0;
  HEED_CHECK(x.dim() > 0 && weight.shape() == Shape{d} && bias.shape() == Shape{d}, "layer_norm: x of shape ",
             x.shape(), " needs weight and bias of shape (", d, ",), got ", weight.shape(), " and ",
             bias.shape());
  const int64_t rows = d > 0 ? x.numel() / d : 0;
  Tensor xc = contiguous(x), w = contiguous(weight), b = contiguous(bias);
  LayerNormResult r{empty(x.shape()), keep_xhat ? empty(x.shape()) : Tensor(), empty({rows})};
  const float *in_all = xc.data(), *wv = w.data(), *bv = b.data();
  float *y_all = r.y.data(), *h_all = keep_xhat ? r.xhat.data() : nullptr, *s_all = r.rstd.data();
  kernels::parallel_for(rows, row_grain(d), [=](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* __restrict in = in_all + row * d;
      const float mean = float(lane_sum(d, [in](int64_t j) { return in[j]; }) / double(d));
      const double var =
          lane_sum(d, [in, mean](int64_t j) { return (in[j] - mean) * (in[j] - mean); }) / double(d);
      const float s = float(1.0 / std::sqrt(var + eps));
      s_all[row] = s;
      float* __restrict out = y_all + row * d;
      if (h_all) {
        float* __restrict h = h_all + row * d;
        for (int64_t j = 0; j < d; ++j) {
          h[j] = (in[j] - mean) * s;
          out[j] = h[j] * wv[j] + bv[j];
        }
      } else {
        for (int64_t j = 0; j < d; ++j) out[j] = (in[j] - mean) * s * wv[j] + bv[j];
      }
    }
  });
  return r;
}

Tensor layer_norm_backward(const Tensor& grad, const Tensor& xhat, const Tensor& rstd, const Tensor& weight) {
  const int64_t d = xhat.size(-1), rows = rstd.numel();
  HEED_CHECK(grad.shape() == xhat.shape() && weight.shape() == Shape{d} && rows * d == xhat.numel(),
             "layer_norm_backward: grad of shape ", grad.shape(), ", xhat of shape ", xhat.shape(),
             ", rstd of shape ", rstd.shape(), " and weight of shape ", weight.shape(),
             " do not fit together");
  Tensor g_all = contiguous(grad), w = contiguous(weight), dx = empty(grad.shape());
  const float *gv = g_all.data(), *hv = xhat.data(), *sv = rstd.data(), *wv = w.data();
  float* dxv = dx.data();
  kernels::parallel_for(rows, row_grain(d), [=](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* __restrict g = gv + row * d;
      const float* __restrict h = hv + row * d;
      const float m1 = float(lane_sum(d, [g, wv](int64_t j) { return g[j] * wv[j]; }) / double(d));
      const float m2 = float(lane_sum(d, [g, h, wv](int64_t j) { return g[j] * wv[j] * h[j]; }) / double(d));
      const float s = sv[row];
      float* __restrict out = dxv + row * d;
      for (int64_t j = 0; j < d; ++j) out[j] = s * (g[j] * wv[j] - m1 - h[j] * m2);
    }
  });
  return dx;
}

// Recomputing xhat' = (y - b) * (1 / w) from y = fl(fl(xhat w) + b) rounds
// four times (the product, the sum, the difference, the reciprocal's product):
// |xhat' - xhat| <~ 2^-24 (3 |xhat| + 2 |b| / |w|). Only |b| / |w| can make that
// large (|xhat| <= sqrt(D) always), so with |b| <= 16 |w| it stays below
// ~2e-6 + 2e-7 |xhat|, under the other float32 errors of the backward. A zero or
// subnormal weight (xhat not recoverable from y) fails the test as well.
bool layer_norm_recomputes_xhat(const Tensor& weight, const Tensor& bias) {
  Tensor w = contiguous(weight), b = contiguous(bias);
  for (int64_t j = 0; j < w.numel(); ++j) {
    const float wj = w.data()[j], bj = b.data()[j];
    if (!std::isnormal(wj) || !(std::fabs(bj) <= 16.0f * std::fabs(wj))) return false;
  }
  return true;
}

void layer_norm_xhat_(const Tensor& y, const Tensor& weight, const Tensor& bias) {
  const int64_t d = y.dim() > 0 ? y.size(-1) : 0, rows = d > 0 ? y.numel() / d : 0;
  HEED_CHECK(y.is_contiguous() && weight.shape() == Shape{d} && bias.shape() == Shape{d},
             "layer_norm_xhat_: y of shape ", y.shape(),
             " must be contiguous, with weight and bias of shape (", d, ",), got ", weight.shape(), " and ",
             bias.shape());
  Tensor b = contiguous(bias), inv = 1.0f / weight;
  const float *bv = b.data(), *iv = inv.data();
  float* all = y.data();
  kernels::parallel_for(rows, row_grain(d), [=](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      float* __restrict h = all + row * d;
      for (int64_t j = 0; j < d; ++j) h[j] = (h[j] - bv[j]) * iv[j];
    }
  });
  y.storage()->bump_version();
}

}  // namespace heed
