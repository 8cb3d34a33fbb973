// The differentiable twin of every tensor op: same name, same arguments, with
// Variable for Tensor. Each is written in autograd/ops_*.cpp as its forward
// (the tensor op) with its backward right beside it.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/variable.h"
#include "tensor/ops.h"
#include "tensor/random.h"

namespace heed {

// ------------------------------------------------------------- elementwise
Variable neg(const Variable& x);
Variable exp(const Variable& x);
Variable log(const Variable& x);
Variable sqrt(const Variable& x);
Variable abs(const Variable& x);
Variable tanh(const Variable& x);
Variable sigmoid(const Variable& x);
Variable relu(const Variable& x);
// A temporary's value is written over instead of a new tensor made, when nothing
// else holds it (no other Variable, no view, no saved tensor, so nothing can see
// the write): relu(linear(x)) makes one tensor, not two. Else as above.
Variable relu(Variable&& x);
Variable gelu(const Variable& x);
Variable elu(const Variable& x, float alpha = 1.0f);
Variable pow(const Variable& x, float exponent);

Variable add(const Variable& a, const Variable& b);
Variable sub(const Variable& a, const Variable& b);
Variable mul(const Variable& a, const Variable& b);
Variable div(const Variable& a, const Variable& b);
Variable maximum(const Variable& a, const Variable& b);
Variable minimum(const Variable& a, const Variable& b);

Variable operator-(const Variable& x);
Variable operator+(const Variable& a, const Variable& b);
Variable operator-(const Variable& a, const Variable& b);
Variable operator*(const Variable& a, const Variable& b);
Variable operator/(const Variable& a, const Variable& b);
Variable operator+(const Variable& a, float b);
Variable operator-(const Variable& a, float b);
Variable operator*(const Variable& a, float b);
Variable operator/(const Variable& a, float b);
Variable operator+(float a, const Variable& b);
Variable operator-(float a, const Variable& b);
Variable operator*(float a, const Variable& b);
Variable operator/(float a, const Variable& b);

// ------------------------------------------------------------- reductions
Variable sum(const Variable& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable mean(const Variable& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Variable var(const Variable& x, const std::vector<int64_t>& dims = {}, bool unbiased = true,
             bool keepdim = false);
Variable amax(const Variable& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Values only; the indices of max(Tensor) carry no gradient.
Variable max(const Variable& x, int64_t dim, bool keepdim = false);

// ------------------------------------------------------------- views
Variable view(const Variable& x, const Shape& shape);
Variable reshape(const Variable& x, const Shape& shape);
Variable flatten(const Variable& x);
Variable transpose(const Variable& x, int64_t dim0, int64_t dim1);
Variable permute(const Variable& x, const std::vector<int64_t>& dims);
Variable slice(const Variable& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Variable narrow(const Variable& x, int64_t dim, int64_t start, int64_t length);
Variable select(const Variable& x, int64_t dim, int64_t index);
// One op for every index of dim: x: (B, T, D), dim 1  ->  T Variables (B, D).
// Walk a sequence with it; its backward is one stack of the pieces' gradients.
std::vector<Variable> unbind(const Variable& x, int64_t dim);
Variable expand(const Variable& x, const Shape& shape);
Variable unsqueeze(const Variable& x, int64_t dim);
Variable squeeze(const Variable& x, int64_t dim);
Variable contiguous(const Variable& x);

// ------------------------------------------------------------- matmul, softmax
Variable matmul(const Variable& a, const Variable& b);
Variable softmax(const Variable& x, int64_t dim);
Variable log_softmax(const Variable& x, int64_t dim);
Variable masked_softmax(const Variable& x, const Tensor& mask, int64_t dim);

// ------------------------------------------------------------- selection, joining
// Index and mask tensors are constants: only x (a, b, the xs) get gradients.
// split and chunk record one op per piece; each piece's gradient is added into
// its own region of x's.
Variable masked_fill(const Variable& x, const Tensor& mask, float value);
Variable where(const Tensor& cond, const Variable& a, const Variable& b);
Variable gather(const Variable& x, int64_t dim, const Tensor& index);
Variable index_select(const Variable& x, int64_t dim, const Tensor& index);
Variable cat(const std::vector<Variable>& xs, int64_t dim);
Variable stack(const std::vector<Variable>& xs, int64_t dim);
std::vector<Variable> split(const Variable& x, int64_t size, int64_t dim);
std::vector<Variable> chunk(const Variable& x, int64_t chunks, int64_t dim);

// ------------------------------------------------------------- fused ops for nn
enum class Reduction { mean, sum, none };  // as PyTorch's reduction="mean", "sum", "none"

// logits: (N, C), target: (N,) class ids as floats  ->  a scalar (mean, sum) or (N,) (none).
// Rows whose target is ignore_index count for nothing (and not in the mean's
// denominator; with every row ignored the mean is 0, not NaN). Reshape
// (B, T, C) logits to (B*T, C) first. With label_smoothing e the target distribution is
// (1 - e) * onehot + e / C. Fused: log_softmax + NLL in one backward,
// grad = softmax - target_distribution.
Variable cross_entropy(const Variable& logits, const Tensor& target, int64_t ignore_index = -100,
                       float label_smoothing = 0.0f, Reduction reduction = Reduction::mean);
// log_probs: (N, C), target: (N,)  ->  -log_probs[i, target[i]] reduced.
Variable nll_loss(const Variable& log_probs, const Tensor& target, int64_t ignore_index = -100,
                  Reduction reduction = Reduction::mean);
Variable mse_loss(const Variable& input, const Variable& target, Reduction reduction = Reduction::mean);
// Normalizes over the last dim: x: (..., D), weight and bias: (D,)  ->  (..., D).
// Biased variance (divides by D), as torch.nn.LayerNorm.
Variable layer_norm(const Variable& x, const Variable& weight, const Variable& bias, float eps = 1e-5f);
// Zeros each element with probability p (in [0, 1]) and scales the rest by
// 1 / (1 - p) when training; returns x itself otherwise (or when p is 0). The
// mask's seed is drawn from gen (the same seed gives the same mask) and kept
// for backward, which drops the gradient with the same mask.
Variable dropout(const Variable& x, float p, bool training, Generator& gen);
// Written over a temporary x that nothing else holds, as relu(Variable&&).
Variable dropout(Variable&& x, float p, bool training, Generator& gen);
// weight: (V, D), ids: any shape of whole numbers  ->  ids.shape + (D,).
// Rows equal to padding_idx (when >= 0) get no gradient.
Variable embedding(const Variable& weight, const Tensor& ids, int64_t padding_idx = -1);

}  // namespace heed
