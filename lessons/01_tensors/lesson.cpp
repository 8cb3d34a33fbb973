// Lesson 01: tensors. (A first section; the lesson grows in place.)
#include "lessons/common/lesson.h"

#include <iostream>

#include "lessons/01_tensors/exercises.h"
#include "lessons/common/exercise.h"
#include "nn/nn.h"

using namespace heed;

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 1, .topic = "tensors", .title = "tensors"}, [](const course::Lesson& lesson) {
        lesson.section(2, "strides");
        Tensor x = zeros({2, 3, 4});
        std::cout << "a (2, 3, 4) tensor has strides " << x.strides() << "\n";
        course::check_exercise(lesson, 1, "contiguous strides",
                               [&] { return lesson01::contiguous_strides(x.shape()) == x.strides(); });
      });
}
