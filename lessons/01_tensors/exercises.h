// Lesson 01's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// They rebuild, by hand, the four ideas a tensor is made of: where a
// contiguous tensor's elements sit (strides), how any view finds its elements
// (offset + index . strides), which shapes broadcast, and an element-wise op
// that walks two broadcast operands through their strides. Use Tensor's
// shape(), strides(), offset() and storage()->data() and the creation
// functions (empty, zeros); not heed's contiguous, clone, copy_, to_vector,
// expand, broadcast_shapes or add, which are the answers.
#pragma once

#include "tensor/shape.h"
#include "tensor/tensor.h"

namespace heed::lesson01 {

// Exercise 1: the strides of a contiguous (row-major) tensor of `shape`:
// the last dimension has stride 1, each earlier one the product of the sizes
// after it. (2, 3, 4) -> (12, 4, 1); () -> (); a size-0 dim is a size like any
// other, (3, 0, 2) -> (0, 2, 1).
Strides contiguous_strides(const Shape& shape);

// Exercise 2: a fresh contiguous tensor holding t's elements in row-major
// order, read straight from t's storage: element (i0, i1, ...) of t is
//   t.storage()->data()[t.offset() + i0*s0 + i1*s1 + ...]
// Walk every index of t's shape like an odometer (the last digit turns
// fastest, and carries into the one before it). It must work for any view: a
// transpose, a permute, a slice with a step, an expanded (stride 0) tensor, a
// 0-dim scalar (one element, no index digits) and a tensor with no elements.
Tensor to_contiguous(const Tensor& t);

// Exercise 3: the shape two shapes broadcast to, NumPy's rule: align the sizes
// from the right (the shorter shape is padded on the left with 1s); each pair
// of sizes must be equal, or one of them 1, and the result takes the larger.
// (3, 1) and (4,) -> (3, 4); (2, 1, 3) and (4, 1) -> (2, 4, 3); (5,) and () -> (5,).
// Shapes that do not broadcast throw heed::Error (HEED_CHECK) naming both,
// printed as heed prints shapes: "cannot broadcast (2, 3) with (4,)".
Shape broadcast_shape(const Shape& a, const Shape& b);

// Exercise 4: a + b, broadcast, written through strides: the output shape from
// broadcast_shape (exercise 3); for each operand the strides that read it
// from an output index (its own stride where its size matches, 0 where it is
// broadcast: a size 1, or a dim it does not have); then one odometer walk over
// the output, keeping both operands' storage offsets. The result is
// contiguous; a and b may be any views.
Tensor add_broadcast(const Tensor& a, const Tensor& b);

}  // namespace heed::lesson01
