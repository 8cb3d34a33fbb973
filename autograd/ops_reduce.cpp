// Reductions and their derivatives.
//
// sum over dims copies each input element into one output element with weight 1,
// so the input's gradient is the output's gradient spread back over the reduced
// dims: x: (B, T, D), sum over T  ->  out: (B, D), and d loss/dx = grad (B, 1, D)
// broadcast to (B, T, D). Everything below is that, times a local derivative.
#include "autograd/ops.h"

namespace heed {
namespace {

// x's shape with the reduced dims kept as size 1 (every dim for an empty list).
Shape kept_shape(const Shape& x, const std::vector<int64_t>& dims) {
  Shape kept = x;
  if (dims.empty()) return Shape::filled(x.size(), 1);
  for (int64_t d : dims) kept[wrap_dim(d, x.size(), "sum")] = 1;
  return kept;
}

// The output's gradient back at x's shape: (B, D) -> (B, 1, D) -> (B, T, D), a view.
Tensor spread(const Tensor& grad, const Shape& x, const std::vector<int64_t>& dims) {
  return expand(reshape(grad, kept_shape(x, dims)), x);
}

int64_t reduced_count(const Shape& x, const std::vector<int64_t>& dims) {
  return x.numel() / kept_shape(x, dims).numel();
}

}  // namespace

Variable sum(const Variable& x, const std::vector<int64_t>& dims, bool keepdim) {
  return record("sum", sum(x.value(), dims, keepdim), {x},
                [shape = x.shape(), dims](const Tensor& grad) { return Grads{spread(grad, shape, dims)}; });
}

// mean = sum / n: each element's weight is 1/n.
Variable mean(const Variable& x, const std::vector<int64_t>& dims, bool keepdim) {
  return record("mean", mean(x.value(), dims, keepdim), {x}, [shape = x.shape(), dims](const Tensor& grad) {
    return Grads{spread(grad / float(reduced_count(shape, dims)), shape, dims)};
  });
}

// var = sum (x - mean)^2 / (n - u), u = 1 when unbiased:
// d var/dx_i = 2 (x_i - mean) / (n - u)  (the mean's own dependence on x_i sums to zero).
Variable var(const Variable& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  return record(
      "var", var(x.value(), dims, unbiased, keepdim), {x},
      [saved = Saved(x.value(), "its input"), dims, unbiased](const Tensor& grad) {
        const Tensor& x = saved;
        float n = float(reduced_count(x.shape(), dims));
        Tensor centered = x - mean(x, dims, /*keepdim=*/true);
        return Grads{spread(grad, x.shape(), dims) * centered * (2.0f / (n - (unbiased ? 1.0f : 0.0f)))};
      });
}

// The maximum's gradient goes to the elements equal to it, split evenly on a tie.
Variable amax(const Variable& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor y = amax(x.value(), dims, keepdim);
  return record(
      "amax", y, {x},
      [saved_x = Saved(x.value(), "its input"), saved_y = Saved(y, "its output"), dims](const Tensor& grad) {
        const Tensor &x = saved_x, &y = saved_y;
        Tensor winners = eq(x, spread(y, x.shape(), dims));
        Tensor ties = sum(winners, dims, /*keepdim=*/true);
        return Grads{spread(grad, x.shape(), dims) * winners / ties};
      });
}

// Only the element max picked (the first maximum) gets the gradient.
Variable max(const Variable& x, int64_t dim, bool keepdim) {
  MaxResult m = max(x.value(), dim, /*keepdim=*/true);
  Tensor values = keepdim ? m.values : squeeze(m.values, dim);
  return record("max", values, {x},
                [shape = x.shape(), saved = Saved(m.indices, "its indices"), dim](const Tensor& grad) {
                  const Tensor& indices = saved;
                  return Grads{scatter_add(shape, dim, indices, reshape(grad, indices.shape()))};
                });
}

}  // namespace heed
