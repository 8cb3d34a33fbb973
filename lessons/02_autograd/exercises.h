// Lesson 02's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// Each is a differentiable op written the way heed writes its own: the forward
// with tensor ops on x.value(), then one heed::record(...) whose closure turns
// d loss / d output into d loss / d input (autograd/variable.h). The closure
// captures the tensors it reads as Saved, never a Variable. Do not build the
// op out of autograd's Variable ops (heed would then differentiate it for
// you): the tests check that the output was made by your record, under the
// name given here, and grade your backward by gradcheck and against heed's.
#pragma once

#include "autograd/variable.h"

namespace heed::lesson02 {

// Exercise 1: softmax along the last dim, recorded as "softmax_last".
//   x: (..., D)  ->  y: (..., D),  y_i = exp(x_i - m) / sum_j exp(x_j - m),  m = max_j x_j
// Subtracting each row's max (amax with keepdim) changes nothing mathematically
// and keeps exp from overflowing: x = 1000 must give finite values. The
// backward never builds the (D, D) Jacobian dy_i/dx_j = y_i (δ_ij - y_j); it is
//   d loss/dx = y * (g - sum(g * y))   (the sum along the last dim, kept as size 1)
Variable softmax_last(const Variable& x);

// Exercise 2: log(sum(exp(x))) along the last dim, recorded as "logsumexp_last".
//   x: (..., D)  ->  (...),  computed stably as m + log(sum(exp(x - m))), m the row max
// Its derivative is the softmax: d/dx_i logsumexp(x) = exp(x_i - logsumexp(x)),
// so d loss/dx = g[..., None] * softmax(x), with g: (...) given one size-1 dim
// back to broadcast over D. A (D,) input gives a 0-dim output.
Variable logsumexp_last(const Variable& x);

// Exercise 3: the affine map of a Linear layer, recorded as "affine".
//   x: (N, I)  w: (O, I)  b: (O,)  ->  y = x wᵀ + b: (N, O)
// Its backward is two matmuls and a sum (g: (N, O)):
//   d loss/dx = g w: (N, O)(O, I)      d loss/dw = gᵀ x: (O, N)(N, I)
//   d loss/db = g summed over the N rows (b was broadcast to every row)
// Check the shapes with HEED_CHECK, naming the op and all three shapes.
Variable affine(const Variable& x, const Variable& w, const Variable& b);

}  // namespace heed::lesson02
