// Reference solutions to lesson 01's exercises (built with HEED_SOLUTIONS=ON).
#include "lessons/01_tensors/exercises.h"

namespace heed::lesson01 {

Strides contiguous_strides(const Shape& shape) {
  Strides strides = Shape::filled(shape.size(), 1);
  for (int64_t d = shape.size() - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

}  // namespace heed::lesson01
