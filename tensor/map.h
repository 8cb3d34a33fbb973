// map2: a fresh tensor y = f(a, b), elementwise, with NumPy broadcasting, over
// any views of a and b. The loop behind add, mul, maximum, the comparisons, and
// the fused backward formulas of autograd (one pass for grad * (1 - y*y), not three).
#pragma once

#include <array>
#include <cstdint>

#include "tensor/iter.h"
#include "tensor/tensor.h"

namespace heed {

// y = f(a, b), y: broadcast(a, b); `op` names the caller in errors. Fast paths: both unit-step, or one
// operand repeated along the row (a bias, a scalar tensor).
template <class F>
Tensor map2(const Tensor& a, const Tensor& b, const char* op, F f) {
  HEED_CHECK(a.defined() && b.defined(), op, ": the tensor is undefined");
  Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor y = detail::empty_for(op, shape);
  detail::for_each_row<3>(shape,
                          {y.strides(), detail::broadcast_strides(a.shape(), a.strides(), shape),
                           detail::broadcast_strides(b.shape(), b.strides(), shape)},
                          {y.data(), a.data(), b.data()},
                          [f](std::array<float*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                            float* __restrict out = p[0];
                            const float* __restrict x = p[1];
                            const float* __restrict z = p[2];
                            if (s[1] == 1 && s[2] == 1)
                              for (int64_t i = 0; i < n; ++i) out[i] = f(x[i], z[i]);
                            else if (s[1] == 1 && s[2] == 0)
                              for (int64_t i = 0; i < n; ++i) out[i] = f(x[i], z[0]);
                            else if (s[1] == 0 && s[2] == 1)
                              for (int64_t i = 0; i < n; ++i) out[i] = f(x[0], z[i]);
                            else
                              for (int64_t i = 0; i < n; ++i) out[i] = f(x[i * s[1]], z[i * s[2]]);
                          });
  return y;
}

}  // namespace heed
