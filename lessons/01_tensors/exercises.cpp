// Your answers to lesson 01's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/01_tensors/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson01 {

Strides contiguous_strides(const Shape& shape) {
  (void)shape;
  course::not_implemented(1, 1,
                          "walk the dimensions from the last to the first; see section 2 of lesson.cpp");
}

Tensor to_contiguous(const Tensor& t) {
  (void)t;
  course::not_implemented(1, 2,
                          "keep an index vector, add index . strides to the offset, turn the last digit "
                          "first; see section 4 of lesson.cpp");
}

Shape broadcast_shape(const Shape& a, const Shape& b) {
  (void)a, (void)b;
  course::not_implemented(1, 3,
                          "compare sizes from the right, a missing size counts as 1; see section 6 of "
                          "lesson.cpp");
}

Tensor add_broadcast(const Tensor& a, const Tensor& b) {
  (void)a, (void)b;
  course::not_implemented(1, 4,
                          "give each operand strides over the output's dims (0 where broadcast), then one "
                          "odometer walk; see section 6 of lesson.cpp");
}

}  // namespace heed::lesson01
