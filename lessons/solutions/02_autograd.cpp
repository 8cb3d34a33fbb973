// Reference solutions to lesson 02's exercises (built with HEED_SOLUTIONS=ON).
#include "autograd/ops.h"
#include "lessons/02_autograd/exercises.h"

namespace heed::lesson02 {

Variable softmax_last(const Variable& x) {
  const Tensor e = exp(x.value() - amax(x.value(), {-1}, /*keepdim=*/true));
  Tensor y = e / sum(e, {-1}, /*keepdim=*/true);
  return record("softmax_last", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    const Tensor& s = y;
    return Grads{s * (grad - sum(grad * s, {-1}, /*keepdim=*/true))};
  });
}

Variable logsumexp_last(const Variable& x) {
  const Tensor m = amax(x.value(), {-1}, /*keepdim=*/true);                     // (..., 1)
  const Tensor lse = m + log(sum(exp(x.value() - m), {-1}, /*keepdim=*/true));  // (..., 1)
  Tensor softmax = exp(x.value() - lse);                                        // (..., D)
  return record("logsumexp_last", squeeze(lse, -1), {x},
                [p = Saved(softmax, "its softmax")](const Tensor& grad) {  // grad: (...)
                  return Grads{unsqueeze(grad, -1) * p.get()};
                });
}

Variable affine(const Variable& x, const Variable& w, const Variable& b) {
  HEED_CHECK(x.dim() == 2 && w.dim() == 2 && b.dim() == 1 && x.size(1) == w.size(1) && b.size(0) == w.size(0),
             "affine: expected x (N, I), w (O, I), b (O,), got x ", x.shape(), ", w ", w.shape(), ", b ",
             b.shape());
  Tensor y = matmul(x.value(), transpose(w.value(), 0, 1)) + b.value();
  return record("affine", y, {x, w, b},
                [xs = Saved(x.value(), "its input x"), ws = Saved(w.value(), "its weight")](const Tensor& g) {
                  const Tensor &xv = xs, &wv = ws;
                  return Grads{matmul(g, wv), matmul(transpose(g, 0, 1), xv), sum(g, {0})};
                });
}

}  // namespace heed::lesson02
