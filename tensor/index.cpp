// Selection by mask and by index: masked_fill, where, gather, index_select,
// and the backward twins scatter_add and index_add.
//
// Index tensors hold whole numbers as floats (see ops.h). Every index is checked
// before any work starts, so a bad one is a heed::Error naming the op, the value
// and the valid range, never a read out of bounds (and never a throw from inside
// a parallel loop).
//
// Determinism: the adding twins parallelize only over outputs that one thread
// owns, and add repeated indices in index order, so their sums are bitwise
// identical for any thread count.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/iter.h"
#include "tensor/map.h"
#include "tensor/ops.h"

namespace heed {
namespace {

// Checks that each of count index values is a whole number in [0, size).
void check_values(const float* p, int64_t count, int64_t size, int64_t dim, const char* op) {
  for (int64_t i = 0; i < count; ++i) {
    float v = p[i];
    HEED_CHECK(std::floor(v) == v, op, ": index ", v, " is not a whole number");
    HEED_CHECK(v >= 0 && v < static_cast<float>(size), op, ": index ", v, " is out of range for dim ", dim,
               " of size ", size);
  }
}

void check_indices(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  const Tensor c = contiguous(index);
  check_values(c.data(), c.numel(), size, dim, op);
}

// The checked indices of a 1-D or N-D index, in row-major order.
std::vector<int64_t> read_indices(const Tensor& index, int64_t size, int64_t dim, const char* op) {
  const std::vector<float> values = index.to_vector();
  check_values(values.data(), static_cast<int64_t>(values.size()), size, dim, op);
  return std::vector<int64_t>(values.begin(), values.end());
}

int64_t product(const Shape& s, int64_t from, int64_t to) {
  int64_t p = 1;
  for (int64_t i = from; i < to; ++i) p *= s[i];
  return p;
}

// x.shape[:dim] + index.shape + x.shape[dim+1:], the shape index_select gives.
Shape selected_shape(const Shape& x, int64_t dim, const Shape& index) {
  Shape s;
  for (int64_t i = 0; i < dim; ++i) s.push_back(x[i]);
  for (int64_t i : index) s.push_back(i);
  for (int64_t i = dim + 1; i < x.size(); ++i) s.push_back(x[i]);
  return s;
}

// gather and scatter_add: index has the rank of `full` and fits inside it
// everywhere but along dim.
void check_gather_shapes(const Shape& full, const char* full_name, int64_t dim, const Shape& index,
                         const char* op) {
  HEED_CHECK(index.size() == full.size(), op, ": index of shape ", index, " must have the rank of ",
             full_name, " ", full);
  for (int64_t d = 0; d < full.size(); ++d)
    HEED_CHECK(d == dim || index[d] <= full[d], op, ": index of shape ", index, " is larger than ", full_name,
               " of shape ", full, " at dim ", d);
}

}  // namespace

// ------------------------------------------------------------- masks
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  return map2(x, mask, "masked_fill", [value](float v, float hidden) { return hidden != 0.0f ? value : v; });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = detail::empty_for("where", shape);
  detail::for_each_row<4>(shape,
                          {out.strides(), detail::broadcast_strides(cond.shape(), cond.strides(), shape),
                           detail::broadcast_strides(a.shape(), a.strides(), shape),
                           detail::broadcast_strides(b.shape(), b.strides(), shape)},
                          {out.data(), cond.data(), a.data(), b.data()},
                          [](std::array<float*, 4> p, std::array<int64_t, 4> s, int64_t n) {
                            for (int64_t i = 0; i < n; ++i)
                              p[0][i] = p[1][i * s[1]] != 0.0f ? p[2][i * s[2]] : p[3][i * s[3]];
                          });
  return out;
}

// ------------------------------------------------------------- gather / scatter_add
// dim = 1:  x (A, B, C)  index (A', J, C')  ->  out (A', J, C'),
//           out[i][j][k] = x[i][index[i][j][k]][k]
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  check_gather_shapes(x.shape(), "x", d, index.shape(), "gather");
  check_indices(index, x.size(d), d, "gather");
  Tensor out = empty(index.shape());
  // x walked at index's positions with dim pinned to 0; the index adds the rest.
  Strides xs = x.strides();
  xs[d] = 0;
  const int64_t step = x.stride(d);
  detail::for_each_row<3>(index.shape(), {out.strides(), index.strides(), xs},
                          {out.data(), index.data(), x.data()},
                          [step](std::array<float*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                            for (int64_t i = 0; i < n; ++i)
                              p[0][i] = p[2][i * s[2] + static_cast<int64_t>(p[1][i * s[1]]) * step];
                          });
  return out;
}

// The reverse of gather: out (shape) = 0, then out[i][index[i][j][k]][k] += src[i][j][k].
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = wrap_dim(dim, shape.size(), "scatter_add");
  check_gather_shapes(shape, "the output", d, index.shape(), "scatter_add");
  bool fits = src.dim() == index.dim();
  for (int64_t i = 0; fits && i < index.dim(); ++i) fits = index.size(i) <= src.size(i);
  HEED_CHECK(fits, "scatter_add: index of shape ", index.shape(), " does not fit inside src of shape ",
             src.shape());
  check_indices(index, shape[d], d, "scatter_add");
  Tensor out = zeros(shape);
  // One task per column (every position but dim): a column's outputs differ from
  // every other column's, so threads never share one, and a column adds its
  // entries in order along dim.
  Shape columns = index.shape();
  const int64_t length = columns[d];
  columns[d] = 1;
  const int64_t out_step = out.stride(d), index_step = index.stride(d), src_step = src.stride(d);
  detail::for_each_row<3>(columns, {out.strides(), index.strides(), src.strides()},
                          {out.data(), index.data(), src.data()},
                          [=](std::array<float*, 3> p, std::array<int64_t, 3> s, int64_t n) {
                            for (int64_t i = 0; i < n; ++i) {
                              float* o = p[0] + i * s[0];
                              const float* ix = p[1] + i * s[1];
                              const float* sr = p[2] + i * s[2];
                              for (int64_t j = 0; j < length; ++j)
                                o[static_cast<int64_t>(ix[j * index_step]) * out_step] += sr[j * src_step];
                            }
                          });
  return out;
}

// ------------------------------------------------------------- index_select / index_add
// dim = 0, the embedding lookup:  x (V, D)  index (B, T)  ->  out (B, T, D).
// In general x is (outer, size, inner) around dim and out is (outer, n, inner).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  const std::vector<int64_t> idx = read_indices(index, x.size(d), d, "index_select");
  Tensor out = detail::empty_for("index_select", selected_shape(x.shape(), d, index.shape()));
  const int64_t outer = product(x.shape(), 0, d), size = x.size(d),
                inner = product(x.shape(), d + 1, x.dim());
  const int64_t n = static_cast<int64_t>(idx.size());
  if (out.numel() == 0) return out;
  const Tensor xc = contiguous(x);
  const float* src = xc.data();
  float* dst = out.data();
  kernels::parallel_for(outer * n, std::max<int64_t>(1, 32768 / inner), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t o = r / n, j = r % n;
      std::memcpy(dst + r * inner, src + (o * size + idx[j]) * inner, inner * sizeof(float));
    }
  });
  return out;
}

// The reverse of index_select: out (shape) = 0, then out[o][index[j]][c] += src[o][j][c].
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = wrap_dim(dim, shape.size(), "index_add");
  const Shape expected = selected_shape(shape, d, index.shape());
  HEED_CHECK(src.shape() == expected, "index_add: src of shape ", src.shape(),
             " does not match index of shape ", index.shape(), " into ", shape, " along dim ", d,
             " (expected ", expected, ")");
  const std::vector<int64_t> idx = read_indices(index, shape[d], d, "index_add");
  Tensor out = zeros(shape);
  const int64_t outer = product(shape, 0, d), size = shape[d], inner = product(shape, d + 1, shape.size());
  const int64_t n = static_cast<int64_t>(idx.size());
  if (out.numel() == 0 || n == 0) return out;
  const Tensor sc = contiguous(src);
  const float* s = sc.data();
  float* o = out.data();
  // Threads own (outer, column) pairs, never rows of the index: repeated indices
  // (the same token twice in a batch) add into one row from one thread, in order.
  kernels::parallel_for(outer * inner, std::max<int64_t>(1, 32768 / n), [&](int64_t begin, int64_t end) {
    for (int64_t a = begin / inner; a * inner < end; ++a) {
      int64_t c0 = std::max(begin, a * inner) - a * inner, c1 = std::min(end, (a + 1) * inner) - a * inner;
      for (int64_t j = 0; j < n; ++j) {
        float* row = o + (a * size + idx[j]) * inner;
        const float* from = s + (a * n + j) * inner;
        for (int64_t c = c0; c < c1; ++c) row[c] += from[c];
      }
    }
  });
  return out;
}

}  // namespace heed
