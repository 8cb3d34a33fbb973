// Walking several strided tensors of one shape together: the loop behind every
// elementwise op, copy and broadcast.
//
// Each operand is a base pointer plus strides over a shared shape (a broadcast
// operand has stride 0 where it repeats). Adjacent dims that are contiguous for
// every operand are merged first, so a contiguous op is one flat loop and a
// transposed one is two. The body is called once per innermost row:
//
//     body(std::array<float*, N> p, std::array<int64_t, N> step, int64_t n)
//
// with element i of operand k at p[k][i * step[k]]. Rows are spread over
// threads; each element is visited exactly once, so results do not depend on
// the thread count.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "tensor/kernels/parallel.h"
#include "tensor/shape.h"

namespace heed::detail {

template <size_t N>
struct StridedLoop {
  Shape shape;  // after merging
  std::array<Strides, N> strides;
  std::array<float*, N> base;
};

// Strides of `t_shape`/`t_strides` as seen from a broadcast `out` shape: missing
// leading dims and size-1 dims that broadcast get stride 0.
inline Strides broadcast_strides(const Shape& t_shape, const Strides& t_strides, const Shape& out) {
  Strides s = Shape::filled(out.size(), 0);
  int64_t lead = out.size() - t_shape.size();
  for (int64_t i = 0; i < t_shape.size(); ++i) s[lead + i] = t_shape[i] == 1 ? 0 : t_strides[i];
  return s;
}

template <size_t N>
StridedLoop<N> merge_dims(const Shape& shape, const std::array<Strides, N>& strides,
                          const std::array<float*, N>& base) {
  StridedLoop<N> loop;
  loop.base = base;
  for (int64_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // a size-1 dim never moves a pointer
    bool merge = loop.shape.size() > 0;
    for (size_t k = 0; merge && k < N; ++k) merge = loop.strides[k].back() == strides[k][d] * shape[d];
    if (merge) {
      loop.shape[loop.shape.size() - 1] *= shape[d];
      for (size_t k = 0; k < N; ++k) loop.strides[k][loop.strides[k].size() - 1] = strides[k][d];
    } else {
      loop.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(strides[k][d]);
    }
  }
  if (loop.shape.empty()) {  // a scalar, or all dims of size 1
    loop.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(0);
  }
  return loop;
}

// Runs body over every innermost row of the merged loop, rows in parallel.
template <size_t N, class Body>
void for_each_row(const Shape& shape, const std::array<Strides, N>& strides,
                  const std::array<float*, N>& base, Body&& body) {
  if (shape.numel() == 0) return;
  StridedLoop<N> loop = merge_dims(shape, strides, base);
  int64_t rank = loop.shape.size(), inner = loop.shape[rank - 1];
  int64_t rows = loop.shape.numel() / inner;
  std::array<int64_t, N> step;
  for (size_t k = 0; k < N; ++k) step[k] = loop.strides[k][rank - 1];
  // Enough work per thread to pay for waking it: ~32K elements.
  int64_t grain = std::max<int64_t>(1, 32768 / inner);
  kernels::parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      std::array<float*, N> p = loop.base;
      for (int64_t d = rank - 2, rest = r; d >= 0; --d) {
        int64_t i = rest % loop.shape[d];
        rest /= loop.shape[d];
        for (size_t k = 0; k < N; ++k) p[k] += i * loop.strides[k][d];
      }
      body(p, step, inner);
    }
  });
}

}  // namespace heed::detail
