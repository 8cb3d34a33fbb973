// The exercise system, seen from a lesson (the grading side is tests/lessons/).
//
// A stub in lessons/NN_topic/exercises.cpp throws until the learner writes it:
//   Variable additive_score(...) {
//     heed::course::not_implemented(6, 2, "compute v^T tanh(W q + U k); see section 3 of lesson.cpp");
//   }
// The reference solutions (lessons/solutions/) replace the stubs when heed is
// built with HEED_SOLUTIONS=ON, which is how `make test` proves every exercise
// passable; the lesson programs always link the learner's own files.
//
// A lesson runs on the library, so it works before any exercise is done; then
// it calls compare_exercise(), which runs the learner's version beside the
// library's and says whether they match, or which exercise is still open.
#pragma once

#include <functional>
#include <string>

#include "lessons/common/lesson.h"
#include "tensor/tensor.h"

namespace heed::course {

// Throws heed::NotImplemented("lesson 06, exercise 2: <hint>").
[[noreturn]] void not_implemented(int lesson, int exercise, const std::string& hint);

// "lesson 06, exercise 2": how messages and test names spell an exercise.
std::string exercise_name(int lesson, int exercise);

// Runs `yours` (the learner's exercise) and compares it with `heeds` (the
// library's answer) within `tolerance` (max |difference|), and says how it went:
//   exercise 2 (additive score): yours matches heed's (max |difference| 3.0e-08)
//   exercise 2 (additive score): yours differs from heed's at flat index 7: 0.25 against 0.5
//   exercise 2 (additive score): not done yet
//       hint: compute v^T tanh(W q + U k); see section 3 of lesson.cpp
//       write it in lessons/06_bahdanau/exercises.cpp, then run `make exercises`
// Returns whether it matched; never throws for the learner's mistakes.
bool compare_exercise(const Lesson& lesson, int exercise, const std::string& what,
                      const std::function<Tensor()>& yours, const Tensor& heeds, double tolerance = 1e-5);
// The same for an exercise whose result is not a tensor: `yours` returns
// whether it agrees with the library, and `detail` what was compared.
bool check_exercise(const Lesson& lesson, int exercise, const std::string& what,
                    const std::function<bool()>& yours, const std::string& detail = "");

}  // namespace heed::course
