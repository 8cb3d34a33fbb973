// Selecting and joining, and their derivatives.
//
// Each of these moves elements around without changing them, so each element's
// gradient goes back to wherever it came from: a masked-out element (replaced by
// a constant) gets none, a gathered element gets the gradient of every place it
// was copied to (scatter-add: repeated indices add up), and a joined piece gets
// its own slice of the output's gradient.
#include <algorithm>

#include "autograd/ops.h"
#include "autograd/ops_detail.h"

namespace heed {

using detail::unbroadcast;

// ------------------------------------------------------------- masks
// Where the mask hides an element, the output is the constant `value`: no gradient.
Variable masked_fill(const Variable& x, const Tensor& mask, float value) {
  return record("masked_fill", masked_fill(x.value(), mask, value), {x},
                [mask = Saved(mask, "its mask"), shape = x.shape()](const Tensor& grad) {
                  return Grads{unbroadcast(masked_fill(grad, mask, 0.0f), shape)};
                });
}

// out = a where cond, else b: each element's gradient goes to the side it came from.
Variable where(const Tensor& cond, const Variable& a, const Variable& b) {
  return record(
      "where", where(cond, a.value(), b.value()), {a, b},
      [cond = Saved(cond, "its condition"), sa = a.shape(), sb = b.shape()](const Tensor& grad) {
        Tensor zero = scalar(0.0f);
        return Grads{unbroadcast(where(cond, grad, zero), sa), unbroadcast(where(cond, zero, grad), sb)};
      });
}

// ------------------------------------------------------------- gather, index_select
// out[i][j] = x[i][index[i][j]] (dim 1)  =>  d loss/dx[i][index[i][j]] += grad[i][j]
Variable gather(const Variable& x, int64_t dim, const Tensor& index) {
  return record("gather", gather(x.value(), dim, index), {x},
                [shape = x.shape(), dim, index = Saved(index, "its index")](const Tensor& grad) {
                  return Grads{scatter_add(shape, dim, index, grad)};
                });
}

// x: (V, D), index: (B, T), dim 0  ->  out: (B, T, D); the gradient of row v is
// the sum of grad over every (b, t) that picked v.
Variable index_select(const Variable& x, int64_t dim, const Tensor& index) {
  return record("index_select", index_select(x.value(), dim, index), {x},
                [shape = x.shape(), dim, index = Saved(index, "its index")](const Tensor& grad) {
                  return Grads{index_add(shape, dim, index, grad)};
                });
}

// ------------------------------------------------------------- joining
namespace {
std::vector<Tensor> values_of(const std::vector<Variable>& xs) {
  std::vector<Tensor> values;
  values.reserve(xs.size());
  for (const Variable& x : xs) values.push_back(x.value());
  return values;
}
}  // namespace

// xs: (2, 3), (4, 3), dim 0  ->  out: (6, 3); x_i's gradient is its rows of grad.
Variable cat(const std::vector<Variable>& xs, int64_t dim) {
  std::vector<Tensor> values = values_of(xs);
  Tensor out = cat(values, dim);
  int64_t d = wrap_dim(dim, out.dim(), "cat");
  std::vector<int64_t> sizes;
  for (const Tensor& v : values) sizes.push_back(v.size(d));
  return record("cat", out, xs, [d, sizes = std::move(sizes)](const Tensor& grad) {
    Grads grads;
    int64_t at = 0;
    for (int64_t size : sizes) {
      grads.push_back(narrow(grad, d, at, size));
      at += size;
    }
    return grads;
  });
}

// xs: n tensors of shape S  ->  out: S with n inserted at dim; x_i's gradient is grad's i-th slice.
Variable stack(const std::vector<Variable>& xs, int64_t dim) {
  std::vector<Tensor> values = values_of(xs);
  Tensor out = stack(values, dim);
  int64_t d = wrap_dim(dim, out.dim(), "stack");
  return record("stack", out, xs, [d, n = int64_t(xs.size())](const Tensor& grad) {
    Grads grads;
    for (int64_t i = 0; i < n; ++i) grads.push_back(select(grad, d, i));
    return grads;
  });
}

namespace {

// The pieces tensor split/chunk cut, each recorded as a narrow of x: a piece's
// gradient is added into its own region of x's.
std::vector<Variable> pieces_of(const Variable& x, const std::vector<Tensor>& pieces, int64_t dim,
                                const char* op) {
  int64_t d = wrap_dim(dim, x.dim(), op);
  std::vector<Variable> out;
  out.reserve(pieces.size());
  int64_t at = 0;
  for (const Tensor& piece : pieces) {
    int64_t length = piece.size(d);
    out.push_back(record(op, piece, {x},
                         [region = Region{.dim = d, .start = at, .end = at + length}](const Tensor& grad) {
                           return Grads{{grad, region}};
                         }));
    at += length;
  }
  return out;
}

}  // namespace

std::vector<Variable> split(const Variable& x, int64_t size, int64_t dim) {
  return pieces_of(x, split(x.value(), size, dim), dim, "split");
}

std::vector<Variable> chunk(const Variable& x, int64_t chunks, int64_t dim) {
  return pieces_of(x, chunk(x.value(), chunks, dim), dim, "chunk");
}

}  // namespace heed
