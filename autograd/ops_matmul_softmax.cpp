// matmul and softmax: the two ops attention is made of, and their derivatives.
#include "autograd/ops.h"
#include "autograd/ops_detail.h"

namespace heed {

// ------------------------------------------------------------- matmul
// out = a b with a: (..., M, K), b: (..., K, N)  ->  out: (..., M, N). Then
//   d loss/da = grad bᵀ: (..., M, N)(..., N, K) = (..., M, K)
//   d loss/db = aᵀ grad: (..., K, M)(..., M, N) = (..., K, N)
// The transposes are views that tensor matmul hands to the kernel as transposed
// operands: nothing is copied. Batch dims that were broadcast are summed back
// to the input's shape; for the common case, a (B, T, K) times a weight b
// (K, N), db is one product over all B*T rows.
// A 1-D operand acts as a matrix, (K,) as a (1, K) row for a or a (K, 1) column
// for b; the backward works on those matrices and reshapes at the end.
// Each gradient reads only the other operand: a is saved only if b needs a
// gradient, and b only if a does.
Variable matmul(const Variable& a, const Variable& b) {
  Tensor out = matmul(a.value(), b.value());
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  // b a transposed view of a contiguous (N, K) matrix, as Linear's weightᵀ is.
  const Tensor& bt = b.value();
  const bool b_transposed =
      bt.dim() == 2 && bt.size(0) > 1 && bt.size(1) > 1 && bt.stride(0) == 1 && bt.stride(1) == bt.size(0);
  return record(
      "matmul", out, {a, b},
      [sa = a.shape(), sb = b.shape(), b_transposed, a = Saved(need_b ? a.value() : Tensor(), "its input 0"),
       b = Saved(need_a ? b.value() : Tensor(), "its input 1")](const Tensor& grad) {
        const bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
        Tensor g = grad;  // put back the dims a 1-D operand dropped
        if (a_vec) g = unsqueeze(g, g.dim() - (b_vec ? 0 : 1));
        if (b_vec) g = unsqueeze(g, g.dim());
        Tensor grad_a, grad_b;
        if (const Tensor& bv = b; bv.defined()) {
          Tensor b2 = b_vec ? unsqueeze(bv, 1) : bv;
          Shape a2 = a_vec ? Shape{1, sa[0]} : sa;
          grad_a = reshape(detail::unbroadcast(matmul(g, transpose(b2, -2, -1)), a2), sa);
        }
        if (const Tensor& av = a; av.defined()) {
          Tensor a2 = a_vec ? unsqueeze(av, 0) : av;
          Shape b2 = b_vec ? Shape{sb[0], 1} : sb;
          if (b2.size() == 2 && a2.dim() > 2) {
            // A weight b (K, N) used by every row of a (..., M, K): the batch
            // dims are more rows, one (K, N) = (rows, K)ᵀ (rows, N) product,
            // instead of a (..., K, N) stack of products summed afterwards.
            // When b is a transposed (N, K) matrix its gradient is made as (N, K)
            // rows too, (rows, N)ᵀ (rows, K), and handed back transposed: the
            // transpose's backward then gives the weight a contiguous gradient,
            // which it keeps as is instead of copying.
            const int64_t K = a2.size(-1), N = g.size(-1);
            Tensor a_rows = reshape(a2, {-1, K}), g_rows = reshape(g, {-1, N});
            grad_b = b_transposed ? transpose(matmul(transpose(g_rows, 0, 1), a_rows), 0, 1)
                                  : reshape(matmul(transpose(a_rows, 0, 1), g_rows), sb);
          } else {
            grad_b = reshape(detail::unbroadcast(matmul(transpose(a2, -2, -1), g), b2), sb);
          }
        }
        return Grads{grad_a, grad_b};
      });
}

// ------------------------------------------------------------- softmax
// y = softmax(x) along dim. Its Jacobian is dy_i/dx_j = y_i (δ_ij - y_j), so
//   d loss/dx = y * (grad - sum(grad * y))   (the sum along dim, kept as size 1)
// one pass, never the n x n Jacobian.
Variable softmax(const Variable& x, int64_t dim) {
  Tensor y = softmax(x.value(), dim);
  return record("softmax", y, {x}, [y = Saved(y, "its output"), dim](const Tensor& grad) {
    return Grads{y * (grad - sum(grad * y, {dim}, /*keepdim=*/true))};
  });
}

// y = x - logsumexp(x): dy_i/dx_j = δ_ij - softmax(x)_j, so
//   d loss/dx = grad - softmax(x) * sum(grad),  softmax(x) = exp(y).
Variable log_softmax(const Variable& x, int64_t dim) {
  Tensor y = log_softmax(x.value(), dim);
  return record("log_softmax", y, {x}, [y = Saved(y, "its output"), dim](const Tensor& grad) {
    return Grads{grad - exp(y) * sum(grad, {dim}, /*keepdim=*/true)};
  });
}

// The softmax backward as is: a hidden entry has y = 0 and so gets no gradient,
// and a fully hidden row (all y = 0) gives zeros, never NaN.
Variable masked_softmax(const Variable& x, const Tensor& mask, int64_t dim) {
  Tensor y = masked_softmax(x.value(), mask, dim);
  return record("masked_softmax", y, {x}, [y = Saved(y, "its output"), dim](const Tensor& grad) {
    return Grads{y * (grad - sum(grad * y, {dim}, /*keepdim=*/true))};
  });
}

}  // namespace heed
