// Elementwise ops: one strided loop (detail::for_each_row) per op, the op itself
// a lambda on one float. Inputs may be any view; binary ops broadcast like
// NumPy; every result is a fresh contiguous tensor.
//
// NaN in, NaN out: relu, maximum and minimum propagate NaN (as PyTorch does),
// and comparisons with NaN are false (ne is true).
#include <array>
#include <cmath>
#include <type_traits>

#include "tensor/iter.h"
#include "tensor/kernels/vmath.h"
#include "tensor/map.h"
#include "tensor/ops.h"

namespace heed {
namespace {

using Ptrs2 = std::array<float*, 2>;
using Steps2 = std::array<int64_t, 2>;

void check_defined(const Tensor& t, const char* op) {
  HEED_CHECK(t.defined(), op, ": the tensor is undefined");
}

// y = f(x), y: x's shape. The unit-step loop is a separate branch so the
// compiler vectorizes it.
// `row(in, out, n)`, when given, replaces the unit-step loop.
struct NoRowKernel {};

template <class F, class Row = NoRowKernel>
Tensor unary(const Tensor& x, const char* op, F f, Row row = {}) {
  check_defined(x, op);
  Tensor y = empty(x.shape());
  detail::for_each_row<2>(x.shape(), {y.strides(), x.strides()}, {y.data(), x.data()},
                          [&](Ptrs2 p, Steps2 s, int64_t n) {
                            float* __restrict out = p[0];
                            const float* __restrict in = p[1];
                            if constexpr (!std::is_same_v<Row, NoRowKernel>) {
                              if (s[1] == 1) return row(in, out, n);
                            }
                            if (s[1] == 1)
                              for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
                            else
                              for (int64_t i = 0; i < n; ++i) out[i] = f(in[i * s[1]]);
                          });
  return y;
}

// unary() for the transcendental ops, with f a generic lambda over the simd.h
// vector types: a unit-step row runs simd::Vec wide and its tail with VecScalar
// (the same code, so the tail cannot disagree with the body).
template <class F>
Tensor unary_simd(const Tensor& x, const char* op, F f) {
  using simd::Vec, simd::VecScalar;
  return unary(
      x, op, [f](float v) { return f(VecScalar{v}).v; },
      [f](const float* in, float* out, int64_t n) {
        int64_t i = 0;
        for (; i + Vec::width <= n; i += Vec::width) f(Vec::load(in + i)).store(out + i);
        for (; i < n; ++i) out[i] = f(VecScalar{in[i]}).v;
      });
}

}  // namespace

// ------------------------------------------------------------- unary
Tensor neg(const Tensor& x) {
  return unary(x, "neg", [](float v) { return -v; });
}
Tensor exp(const Tensor& x) {
  return unary_simd(x, "exp", [](auto v) { return simd::exp(v); });
}
Tensor log(const Tensor& x) {
  return unary(x, "log", [](float v) { return std::log(v); });
}
Tensor sqrt(const Tensor& x) {
  return unary(x, "sqrt", [](float v) { return std::sqrt(v); });
}
Tensor abs(const Tensor& x) {
  return unary(x, "abs", [](float v) { return std::fabs(v); });
}
Tensor tanh(const Tensor& x) {
  return unary_simd(x, "tanh", [](auto v) { return simd::tanh(v); });
}
Tensor sigmoid(const Tensor& x) {
  return unary_simd(x, "sigmoid", [](auto v) { return simd::sigmoid(v); });
}
Tensor relu(const Tensor& x) {
  return unary(x, "relu", [](float v) { return v < 0.0f ? 0.0f : v; });
}

// 0.5 x (1 + tanh(z)) with z = sqrt(2/pi) (x + 0.044715 x^3), computed as the
// identical x * sigmoid(2z) = x / (1 + e^(-2z)): one exp instead of a tanh, and
// no cancellation in 1 + tanh(z) for negative x.
Tensor gelu(const Tensor& x) {
  return unary_simd(x, "gelu", [](auto v) {
    using V = decltype(v);
    V two_z = V::broadcast(2.0f * 0.7978845608028654f) * fma(V::broadcast(0.044715f) * v * v, v, v);
    return v * simd::sigmoid(two_z);
  });
}

// expm1, not exp - 1: no cancellation for x near 0, where elu is steepest.
Tensor elu(const Tensor& x, float alpha) {
  return unary(x, "elu", [alpha](float v) { return v > 0.0f ? v : alpha * std::expm1(v); });
}

// Squares and square roots are exact (correctly rounded) this way; powf is not.
Tensor pow(const Tensor& x, float exponent) {
  if (exponent == 2.0f) return unary(x, "pow", [](float v) { return v * v; });
  if (exponent == 0.5f) return unary(x, "pow", [](float v) { return std::sqrt(v); });
  if (exponent == 1.0f) return unary(x, "pow", [](float v) { return v; });
  if (exponent == -1.0f) return unary(x, "pow", [](float v) { return 1.0f / v; });
  return unary(x, "pow", [exponent](float v) { return std::pow(v, exponent); });
}

// ------------------------------------------------------------- binary
Tensor add(const Tensor& a, const Tensor& b) {
  return map2(a, b, "add", [](float x, float y) { return x + y; });
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return map2(a, b, "sub", [](float x, float y) { return x - y; });
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return map2(a, b, "mul", [](float x, float y) { return x * y; });
}
Tensor div(const Tensor& a, const Tensor& b) {
  return map2(a, b, "div", [](float x, float y) { return x / y; });
}
// x != x is NaN: it wins, so NaN propagates from either side.
Tensor maximum(const Tensor& a, const Tensor& b) {
  return map2(a, b, "maximum", [](float x, float y) { return (x > y || x != x) ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return map2(a, b, "minimum", [](float x, float y) { return (x < y || x != x) ? x : y; });
}
Tensor eq(const Tensor& a, const Tensor& b) {
  return map2(a, b, "eq", [](float x, float y) { return float(x == y); });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return map2(a, b, "ne", [](float x, float y) { return float(x != y); });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return map2(a, b, "lt", [](float x, float y) { return float(x < y); });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return map2(a, b, "le", [](float x, float y) { return float(x <= y); });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return map2(a, b, "gt", [](float x, float y) { return float(x > y); });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return map2(a, b, "ge", [](float x, float y) { return float(x >= y); });
}

// ------------------------------------------------------------- operators
// A float operand is folded into the lambda rather than wrapped in a tensor.
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, float b) {
  return unary(a, "add", [b](float x) { return x + b; });
}
Tensor operator-(const Tensor& a, float b) {
  return unary(a, "sub", [b](float x) { return x - b; });
}
Tensor operator*(const Tensor& a, float b) {
  return unary(a, "mul", [b](float x) { return x * b; });
}
Tensor operator/(const Tensor& a, float b) {
  return unary(a, "div", [b](float x) { return x / b; });
}
Tensor operator+(float a, const Tensor& b) {
  return unary(b, "add", [a](float x) { return a + x; });
}
Tensor operator-(float a, const Tensor& b) {
  return unary(b, "sub", [a](float x) { return a - x; });
}
Tensor operator*(float a, const Tensor& b) {
  return unary(b, "mul", [a](float x) { return a * x; });
}
Tensor operator/(float a, const Tensor& b) {
  return unary(b, "div", [a](float x) { return a / x; });
}

// ------------------------------------------------------------- in place
void add_(const Tensor& dst, const Tensor& src) {
  detail::begin_inplace(dst, "add_");
  check_defined(src, "add_");
  Shape shape = broadcast_shapes(dst.shape(), src.shape(), "add_");
  HEED_CHECK(shape == dst.shape(), "add_: cannot add a tensor of shape ", src.shape(), " into one of shape ",
             dst.shape());
  // No __restrict: src may be dst itself (x += x).
  detail::for_each_row<2>(shape,
                          {dst.strides(), detail::broadcast_strides(src.shape(), src.strides(), shape)},
                          {dst.data(), src.data()}, [](Ptrs2 p, Steps2 s, int64_t n) {
                            if (s[0] == 1 && s[1] == 1)
                              for (int64_t i = 0; i < n; ++i) p[0][i] += p[1][i];
                            else
                              for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] += p[1][i * s[1]];
                          });
}

void mul_(const Tensor& dst, float s) {
  detail::begin_inplace(dst, "mul_");
  detail::for_each_row<1>(dst.shape(), {dst.strides()}, {dst.data()},
                          [s](std::array<float*, 1> p, std::array<int64_t, 1> step, int64_t n) {
                            if (step[0] == 1)
                              for (int64_t i = 0; i < n; ++i) p[0][i] *= s;
                            else
                              for (int64_t i = 0; i < n; ++i) p[0][i * step[0]] *= s;
                          });
}

void relu_(const Tensor& dst) {
  detail::begin_inplace(dst, "relu_");
  HEED_CHECK(dst.is_contiguous(), "relu_: the tensor of shape ", dst.shape(), " must be contiguous");
  float* p = dst.data();
  for (int64_t i = 0, n = dst.numel(); i < n; ++i) p[i] = p[i] < 0.0f ? 0.0f : p[i];
}

void relu_backward_(const Tensor& y, const Tensor& grad) {
  detail::begin_inplace(y, "relu_backward_");
  HEED_CHECK(y.is_contiguous() && grad.shape() == y.shape(), "relu_backward_: y of shape ", y.shape(),
             " must be contiguous and grad of its shape, got ", grad.shape());
  Tensor g = contiguous(grad);
  float* __restrict out = y.data();
  const float* __restrict in = g.data();
  // grad * (y > 0), as a product: a NaN gradient stays NaN where y <= 0.
  for (int64_t i = 0, n = y.numel(); i < n; ++i) out[i] = in[i] * (out[i] > 0.0f ? 1.0f : 0.0f);
}

}  // namespace heed
