// Views and their derivatives.
//
// A view moves no numbers, it only renames where each one sits. Its backward
// renames them back: the gradient of transpose is a transpose, of reshape a
// reshape, of permute the inverse permutation. A view that keeps only some
// elements (slice, select) gives the rest a zero gradient; one that repeats
// elements (expand) sums the gradient over the repeats.
#include "autograd/ops.h"
#include "autograd/ops_detail.h"

namespace heed {

Variable view(const Variable& x, const Shape& shape) {
  return record("view", view(x.value(), shape), {x},
                [shape = x.shape()](const Tensor& grad) { return Grads{reshape(grad, shape)}; });
}

Variable reshape(const Variable& x, const Shape& shape) {
  return record("reshape", reshape(x.value(), shape), {x},
                [shape = x.shape()](const Tensor& grad) { return Grads{reshape(grad, shape)}; });
}

Variable flatten(const Variable& x) {
  return record("flatten", flatten(x.value()), {x},
                [shape = x.shape()](const Tensor& grad) { return Grads{reshape(grad, shape)}; });
}

Variable transpose(const Variable& x, int64_t dim0, int64_t dim1) {
  return record("transpose", transpose(x.value(), dim0, dim1), {x},
                [dim0, dim1](const Tensor& grad) { return Grads{transpose(grad, dim0, dim1)}; });
}

// out dim i is x dim dims[i], so x dim dims[i] is out dim i.
Variable permute(const Variable& x, const std::vector<int64_t>& dims) {
  Tensor y = permute(x.value(), dims);
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], x.dim(), "permute")] = int64_t(i);
  return record("permute", y, {x},
                [inverse = std::move(inverse)](const Tensor& grad) { return Grads{permute(grad, inverse)}; });
}

// x: (..., n, ...)  ->  out: (..., m, ...). The gradient is zero except at the
// elements the view kept: the backward returns the gradient of that region only,
// and backward() adds it into the region of x's gradient, in place.
Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Tensor y = slice(x.value(), dim, start, end, step);
  return record("slice", y, {x},
                [region = Region{.dim = dim, .start = start, .end = end, .step = step}](const Tensor& grad) {
                  return Grads{{grad, region}};
                });
}

Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length) {
  Tensor y = narrow(x.value(), dim, start, length);  // checks the range
  return record("narrow", y, {x},
                [region = Region{.dim = dim, .start = start, .end = start + length}](const Tensor& grad) {
                  return Grads{{grad, region}};
                });
}

Variable select(const Variable& x, int64_t dim, int64_t index) {
  Tensor y = select(x.value(), dim, index);
  return record("select", y, {x},
                [region = Region{.dim = dim, .start = index, .select = true}](const Tensor& grad) {
                  return Grads{{grad, region}};
                });
}

// x: (B, T, D), dim 1  ->  T pieces (B, D), all made by one node: their
// gradients land in place in one (B, T, D) tensor (zeros where a piece got
// none), which is x's gradient as it stands.
std::vector<Variable> unbind(const Variable& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x.dim(), "unbind");
  return record_pieces("unbind", unbind(x.value(), d), x.shape(), d, x,
                       [](const Tensor& grad) { return Grads{grad}; });
}

// x: (3, 1)  ->  out: (2, 3, 4): each element was used 2 * 4 times.
Variable expand(const Variable& x, const Shape& shape) {
  return record("expand", expand(x.value(), shape), {x},
                [shape = x.shape()](const Tensor& grad) { return Grads{detail::unbroadcast(grad, shape)}; });
}

Variable unsqueeze(const Variable& x, int64_t dim) {
  int64_t at = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  return record("unsqueeze", unsqueeze(x.value(), dim), {x},
                [at](const Tensor& grad) { return Grads{squeeze(grad, at)}; });
}

Variable squeeze(const Variable& x, int64_t dim) {
  return record("squeeze", squeeze(x.value(), dim), {x},
                [shape = x.shape()](const Tensor& grad) { return Grads{reshape(grad, shape)}; });
}

Variable contiguous(const Variable& x) {
  return record("contiguous", contiguous(x.value()), {x}, [](const Tensor& grad) { return Grads{grad}; });
}

}  // namespace heed
