// matmul: numpy.matmul on top of kernels::sgemm.
//
//   a: (..., M, K)  b: (..., K, N)  ->  (broadcast(a..., b...), M, N)
//
// A 1-D a is a row (1, K) and a 1-D b a column (K, 1); the added dim is dropped
// from the result, so (K,)·(K,) is a 0-dim dot product. Each operand's matrix
// reaches the kernel without a copy whenever one of its last two strides is 1:
// stride(-1) == 1 is a plain row-major matrix, stride(-2) == 1 a transposed one.
// That makes matmul(q, transpose(k, -2, -1)) and the backward's dC·Bᵀ copy-free.
#include <vector>

#include "tensor/iter.h"
#include "tensor/kernels/sgemm.h"
#include "tensor/ops.h"

namespace heed {
namespace {

// An operand's last two dims as the kernel reads them.
struct Matrix {
  Tensor t;  // x itself, or a contiguous copy when neither inner stride is 1
  bool trans = false;
  int64_t ld = 0;
};

Matrix as_matrix(const Tensor& x) {
  int64_t rows = x.size(-2), cols = x.size(-1);
  // A size-1 dim never moves the pointer, so its stride is free to be anything.
  if (x.stride(-1) == 1 || cols == 1) return {x, false, x.stride(-2)};
  if (x.stride(-2) == 1 || rows == 1) return {x, true, x.stride(-1)};
  Tensor c = contiguous(x);
  return {c, false, c.stride(-2)};
}

// When every dim but the last of a plain (untransposed) matrix walks memory with
// one stride, its batch is just more rows: (B, T, K) is (B*T, K). Returns that
// stride, or -1. This turns x (B, T, D) · W (D, N) into one large sgemm.
int64_t folded_row_stride(const Matrix& m) {
  if (m.trans) return -1;
  const Tensor& t = m.t;
  int64_t stride = -1, expected = 0;
  for (int64_t d = t.dim() - 2; d >= 0; --d) {
    if (t.size(d) == 1) continue;
    if (stride < 0)
      stride = t.stride(d);
    else if (t.stride(d) != expected)
      return -1;
    expected = t.stride(d) * t.size(d);
  }
  return stride < 0 ? m.ld : stride;
}

// The batch dims: all but the last two.
Shape leading(Shape s) {
  s.pop_back();
  s.pop_back();
  return s;
}

// Strides of t's batch dims as seen from the broadcast batch shape (0 where t repeats).
Strides batch_strides(const Tensor& t, const Shape& batch) {
  return detail::broadcast_strides(leading(t.shape()), leading(t.strides()), batch);
}

}  // namespace

namespace {
Tensor matmul_impl(const Tensor& a_in, const Tensor& b_in, const Tensor& bias) {
  HEED_CHECK(a_in.dim() > 0 && b_in.dim() > 0, "matmul: cannot multiply ", a_in.shape(), " by ", b_in.shape(),
             ": both operands need at least one dimension");
  HEED_CHECK(a_in.size(-1) == b_in.size(b_in.dim() == 1 ? 0 : -2), "matmul: cannot multiply ", a_in.shape(),
             " by ", b_in.shape(), ": inner sizes ", a_in.size(-1), " and ",
             b_in.size(b_in.dim() == 1 ? 0 : -2), " differ");
  // a (M, K) and b (K, N) after promoting vectors.
  const Tensor a = a_in.dim() == 1 ? unsqueeze(a_in, 0) : a_in;
  const Tensor b = b_in.dim() == 1 ? unsqueeze(b_in, 1) : b_in;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);

  const Shape a_batch = leading(a.shape()), b_batch = leading(b.shape());
  Shape batch;
  try {
    batch = broadcast_shapes(a_batch, b_batch, "matmul");
  } catch (const Error&) {
    throw Error(detail::concat("matmul: cannot multiply ", a_in.shape(), " by ", b_in.shape(),
                               ": batch dims ", a_batch, " and ", b_batch, " do not broadcast"));
  }
  Shape out_shape = batch;
  if (a_in.dim() > 1) out_shape.push_back(m);
  if (b_in.dim() > 1) out_shape.push_back(n);
  // The result is contiguous (batch..., M, N): dropping a promoted size-1 dim
  // does not change its layout, so the kernel writes it as (batch, M, N).
  Tensor out = detail::empty_for("matmul", out_shape);
  if (out.numel() == 0) return out;
  const Tensor b_row = bias.defined() ? contiguous(bias) : Tensor();
  if (k == 0) {
    fill_(out, 0.0f);
    if (bias.defined()) add_(out, b_row);
    return out;
  }
  const Matrix ma = as_matrix(a), mb = as_matrix(b);
  kernels::GemmArgs g{.trans_a = ma.trans,
                      .trans_b = mb.trans,
                      .m = m,
                      .n = n,
                      .k = k,
                      .a = ma.t.data(),
                      .lda = ma.ld,
                      .b = mb.t.data(),
                      .ldb = mb.ld,
                      .c = out.data(),
                      .ldc = n,
                      .bias = bias.defined() ? b_row.data() : nullptr};
  const int64_t count = batch.numel();
  if (count == 1) {
    kernels::sgemm(g);
    return out;
  }
  if (b_batch.numel() == 1 && a_batch == batch) {
    if (int64_t row_stride = folded_row_stride(ma); row_stride >= 0) {
      g.m = count * m;
      g.lda = row_stride;
      kernels::sgemm(g);
      return out;
    }
  }

  // One pointer per product; a broadcast operand repeats its pointers.
  std::vector<const float*> pa(count), pb(count);
  std::vector<float*> pc(count);
  const Strides stride_a = batch_strides(ma.t, batch), stride_b = batch_strides(mb.t, batch);
  for (int64_t i = 0; i < count; ++i) {
    int64_t oa = 0, ob = 0;
    for (int64_t d = batch.size() - 1, rest = i; d >= 0; --d) {
      int64_t j = rest % batch[d];
      rest /= batch[d];
      oa += j * stride_a[d];
      ob += j * stride_b[d];
    }
    pa[i] = ma.t.data() + oa;
    pb[i] = mb.t.data() + ob;
    pc[i] = out.data() + i * m * n;
  }
  kernels::sgemm_batched(g, pa.data(), pb.data(), pc.data(), count);
  return out;
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) { return matmul_impl(a, b, Tensor()); }

Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias) {
  HEED_CHECK(bias.dim() == 1 && b.dim() >= 2 && bias.size(0) == b.size(-1), "matmul: a bias of shape ",
             bias.shape(), " does not fit the product of ", a.shape(), " by ", b.shape(),
             ": it must be (N,) = (", b.dim() >= 2 ? b.size(-1) : 1, ",)");
  return matmul_impl(a, b, bias);
}

}  // namespace heed
