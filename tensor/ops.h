// Forward ops on Tensor: free functions that broadcast like NumPy and accept any
// view (non-contiguous, expanded, sliced). Every result is a fresh contiguous
// tensor. autograd/ gives each one a Variable twin of the same name.
//
// heed tensors hold float32 only. Index tensors (token ids, argmax results,
// gather indices) are float tensors holding whole numbers; they are exact up to
// 2^24, far beyond any vocabulary here, and are checked when used.
// Masks are float tensors too: non-zero means "hidden" (masked_fill fills there,
// masked_softmax gives it zero weight).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tensor/tensor.h"

namespace heed {

// ------------------------------------------------------------- elementwise, unary
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
// The tanh approximation, as GPT-2 and PyTorch's approximate="tanh".
Tensor gelu(const Tensor& x);
// x for x > 0, alpha (e^x - 1) otherwise (torch.nn.functional.elu).
Tensor elu(const Tensor& x, float alpha = 1.0f);
Tensor pow(const Tensor& x, float exponent);

// ------------------------------------------------------------- elementwise, binary
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// Comparisons give 1.0 where true, 0.0 where false.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);

// In place, through views: dst += src (src broadcast to dst's shape), dst *= s.
void add_(const Tensor& dst, const Tensor& src);
void mul_(const Tensor& dst, float s);
// In place, dst contiguous: dst = relu(dst); and relu's backward from its
// output, y = grad * (y > 0 ? 1 : 0) (grad of y's shape).
void relu_(const Tensor& dst);
void relu_backward_(const Tensor& y, const Tensor& grad);

// ------------------------------------------------------------- reductions
// Over the listed dims (negative allowed; empty list = all dims). keepdim keeps
// them as size 1. Reductions never split one output over threads, so results
// are bitwise identical for any thread count.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Variance; unbiased divides by N - 1 (torch.var's default), else by N.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, bool unbiased = true,
           bool keepdim = false);
// The largest value over several dims.
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
struct MaxResult {
  Tensor values;
  Tensor indices;  // whole numbers stored as float; the first maximum wins
};
MaxResult max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums `x` down to `shape` (the reverse of broadcasting): autograd's tool for
// giving a broadcast input the gradient of its own shape.
Tensor sum_to(const Tensor& x, const Shape& shape);

// ------------------------------------------------------------- matmul
// 1-D·1-D is a dot product; 2-D·2-D a matrix product; N-D operands are batches
// of matrices whose batch dims broadcast; a 1-D operand is promoted to a matrix
// and the added dim removed afterwards (numpy.matmul). Transposed views are
// passed to the kernel as transposed operands, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);
// matmul(a, b) + bias for a bias of shape (N,) and b of at least 2 dims, the
// bias added as the kernel stores each tile of the product (a Linear layer's
// forward): the same bits as add(matmul(a, b), bias), one walk over C less.
Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias);

// ------------------------------------------------------------- softmax
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// softmax with `mask` (broadcastable to x) hiding entries where it is non-zero;
// a row with every entry hidden is all zeros, never NaN.
Tensor masked_softmax(const Tensor& x, const Tensor& mask, int64_t dim);

// Scaled dot-product attention's forward in one kernel (tensor/kernels/attention.h):
//   weights = masked_softmax(scale q kᵀ, mask),  output = weights v
// q: (..., T, Dh)  k: (..., S, Dh)  v: (..., S, Dv), the same leading dims;
// mask: broadcast to (..., T, S), non-zero hides, or undefined.
//   ->  output: (..., T, Dv), weights: (..., T, S)
// The same numbers as the three ops, without the (..., T, S) scores crossing
// memory between them. No gradient: autograd composes the ops instead. A 4-D
// (B, H, T, Dv) output is a view of (B, T, H, Dv) memory: heads merge for free.
struct AttentionResult {
  Tensor output, weights;
};
AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale);
// The same, written into `into`: views of the results' shapes (slices of
// larger tensors, say), the output's rows of unit stride, the weights' (T, S)
// planes contiguous.
void attention_into(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale,
                    const AttentionResult& into);

// Layer normalization's two row passes, which autograd's layer_norm is built on.
// x: (..., D), weight and bias: (D,)  ->  y = xhat * weight + bias, with
// xhat = (x - mean) * rstd and rstd = 1 / sqrt(var + eps) per row: (rows,).
// xhat is made only with keep_xhat (else it is undefined).
struct LayerNormResult {
  Tensor y, xhat, rstd;
};
LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                           bool keep_xhat = true);
// grad, xhat: (..., D), rstd: (rows,), weight: (D,)  ->  dx: (..., D), per row
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = grad * weight
Tensor layer_norm_backward(const Tensor& grad, const Tensor& xhat, const Tensor& rstd, const Tensor& weight);
// Whether xhat = (y - bias) / weight, recomputed from layer_norm's output y, is
// within a few 1e-6 of the xhat layer_norm made: every weight is a normal float
// and |bias| <= 16 |weight| (see tensor/layer_norm.cpp). Autograd then keeps y,
// which the next op usually keeps anyway, instead of a tensor of its own.
bool layer_norm_recomputes_xhat(const Tensor& weight, const Tensor& bias);
// y: (..., D) contiguous becomes xhat = (y - bias) * (1 / weight), in place.
void layer_norm_xhat_(const Tensor& y, const Tensor& weight, const Tensor& bias);

// ------------------------------------------------------------- selection
// x where mask is non-zero becomes `value` (shapes broadcast).
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);
// a where cond is non-zero, else b (all three broadcast).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1 (torch.gather); index has
// x's rank and sizes no larger than x's except along dim.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Rows of x along `dim` picked by a 1-D or N-D index: the embedding lookup.
// out shape = x.shape[:dim] + index.shape + x.shape[dim+1:].
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// The reverses, for backward: a zero tensor of `shape` with `src` added at the
// positions gather/index_select read (repeated indices accumulate).
Tensor scatter_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);

// ------------------------------------------------------------- joining, splitting
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// cat({a, b}, 0): a braced list of Tensors matches these exactly, so the call is
// not ambiguous with autograd's cat(std::vector<Variable>) (a Tensor converts to
// a Variable); a list holding any Variable goes to that one.
Tensor cat(std::initializer_list<Tensor> xs, int64_t dim);
Tensor stack(std::initializer_list<Tensor> xs, int64_t dim);
// Pieces of `size` along dim (the last may be smaller); views, not copies.
std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim);
// `chunks` nearly equal pieces along dim (torch.chunk); views.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);
// Every index of dim, that dim removed: x: (B, T, D), dim 1  ->  T views (B, D).
std::vector<Tensor> unbind(const Tensor& x, int64_t dim);

// ------------------------------------------------------------- comparison helpers
// True when shapes match and every |a - b| <= atol + rtol * |b| (NaNs equal).
bool allclose(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-8f);
// True when shapes and every bit match.
bool equal(const Tensor& a, const Tensor& b);

}  // namespace heed
