// Lesson 01's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include "tensor/shape.h"

namespace heed::lesson01 {

// Exercise 1: the strides of a contiguous (row-major) tensor of `shape`:
// the last dimension has stride 1, each earlier one the product of the sizes
// after it. (2, 3, 4) -> (12, 4, 1).
Strides contiguous_strides(const Shape& shape);

}  // namespace heed::lesson01
