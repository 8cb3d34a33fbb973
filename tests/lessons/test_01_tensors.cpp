#include <doctest/doctest.h>

#include <sstream>

#include "lessons/01_tensors/exercises.h"
#include "lessons/common/exercise.h"
#include "tensor/tensor.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

TEST_CASE("lesson 01, exercise 1: contiguous strides") {
  for (Shape shape : {Shape{}, Shape{5}, Shape{2, 3, 4}, Shape{3, 0, 2}, Shape{1, 17, 1, 3}}) {
    std::ostringstream input;
    input << shape;
    testing::expect_true(1, 1, input.str(), lesson01::contiguous_strides(shape) == zeros(shape).strides(),
                         "strides differ from a contiguous tensor's");
  }
}
