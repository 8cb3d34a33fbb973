// What an exercise test uses to grade the learner: on failure it prints the
// lesson and exercise, the input that failed, and heed's answer beside the
// learner's, so the learner knows what to look at (not only a doctest line).
//
//   TEST_CASE("lesson 06, exercise 2: the additive score") {
//     expect_close(6, 2, "q (2, 4), k (2, 5, 4), seed 1", heeds, yours);
//   }
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "lessons/common/exercise.h"
#include "tensor/ops.h"

namespace heed::testing {

// The learner's `computed` against heed's `expected`, within `tolerance`
// (max |difference|); a mismatch of shape or value is one failed CHECK whose
// message says where, on which input, and both values.
inline void expect_close(int lesson, int exercise, const std::string& input, const Tensor& expected,
                         const Tensor& computed, double tolerance = 1e-5) {
  const std::string where = course::exercise_name(lesson, exercise) + ", input " + input;
  if (!computed.defined() || computed.shape() != expected.shape()) {
    std::ostringstream out;
    out << where << ": expected shape " << expected.shape() << ", computed "
        << (computed.defined() ? computed.shape() : Shape{});
    FAIL_CHECK(out.str());
    return;
  }
  const Tensor a = contiguous(expected), b = contiguous(computed);
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double e = a.data()[i], c = b.data()[i];
    if (!(std::fabs(e - c) <= tolerance * (1 + std::fabs(e)))) {
      std::ostringstream out;
      out << where << ": at flat index " << i << " expected " << e << ", computed " << c << "\n  expected "
          << expected << "\n  computed " << computed;
      FAIL_CHECK(out.str());
      return;
    }
  }
  CHECK(true);
}

// Booleans and counts: one CHECK that names the exercise and the input.
inline void expect_true(int lesson, int exercise, const std::string& input, bool ok,
                        const std::string& what) {
  if (!ok) {
    const std::string message = course::exercise_name(lesson, exercise) + ", input " + input + ": " + what;
    FAIL_CHECK(message);
  }
  CHECK(true);
}

// The learner's backward checked by central differences on `inputs`.
inline void expect_gradcheck(int lesson, int exercise, const std::string& input,
                             const std::function<Variable(const std::vector<Variable>&)>& f,
                             const std::vector<Tensor>& inputs, const GradcheckOptions& options = {}) {
  const GradcheckResult result = gradcheck(f, inputs, options);
  if (!result.ok) {
    const std::string message = course::exercise_name(lesson, exercise) + ", input " + input +
                                ": your backward disagrees with finite differences:\n" + result.report;
    FAIL_CHECK(message);
  }
  CHECK(true);
}

}  // namespace heed::testing
