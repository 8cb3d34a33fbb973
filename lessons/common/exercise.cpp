#include "lessons/common/exercise.h"

#include <cmath>
#include <cstdio>
#include <exception>
#include <sstream>

#include "tensor/error.h"
#include "tensor/ops.h"

namespace heed::course {
namespace {

void say(int exercise, const std::string& what, const std::string& verdict) {
  std::printf("  exercise %d (%s): %s\n", exercise, what.c_str(), verdict.c_str());
  std::fflush(stdout);
}

std::string not_done(const Lesson& lesson, const std::string& message) {
  // The message says "lesson 06, exercise 2: <hint>"; the hint is what is new.
  const size_t colon = message.find(": ");
  const std::string hint = colon == std::string::npos ? message : message.substr(colon + 2);
  return "not done yet\n      hint: " + hint + "\n      write it in lessons/" + lesson.tag() + "_" +
         lesson.info().topic + "/exercises.cpp, then run `make exercises`";
}

}  // namespace

std::string exercise_name(int lesson, int exercise) {
  char name[48];
  std::snprintf(name, sizeof name, "lesson %02d, exercise %d", lesson, exercise);
  return name;
}

void not_implemented(int lesson, int exercise, const std::string& hint) {
  throw NotImplemented(exercise_name(lesson, exercise) + ": " + hint);
}

bool compare_exercise(const Lesson& lesson, int exercise, const std::string& what,
                      const std::function<Tensor()>& yours, const Tensor& heeds, double tolerance) {
  Tensor mine;
  try {
    mine = yours();
  } catch (const NotImplemented& e) {
    say(exercise, what, not_done(lesson, e.what()));
    return false;
  } catch (const std::exception& e) {
    say(exercise, what, std::string("yours threw: ") + e.what());
    return false;
  }
  if (!mine.defined() || mine.shape() != heeds.shape()) {
    std::ostringstream out;
    out << "yours has shape " << (mine.defined() ? mine.shape() : Shape{}) << ", heed's " << heeds.shape();
    say(exercise, what, out.str());
    return false;
  }
  const Tensor a = contiguous(mine), b = contiguous(heeds);
  double worst = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(double(a.data()[i]) - double(b.data()[i]));
    if (!(d <= worst)) {  // NaN counts as the worst
      worst = std::isnan(d) ? INFINITY : d;
      at = i;
    }
  }
  char verdict[256];
  if (worst <= tolerance) {
    std::snprintf(verdict, sizeof verdict, "yours matches heed's (max |difference| %.1e)", worst);
    say(exercise, what, verdict);
    return true;
  }
  std::snprintf(verdict, sizeof verdict, "yours differs from heed's at flat index %lld: %g against %g",
                (long long)at, double(a.data()[at]), double(b.data()[at]));
  say(exercise, what, verdict);
  return false;
}

bool check_exercise(const Lesson& lesson, int exercise, const std::string& what,
                    const std::function<bool()>& yours, const std::string& detail) {
  try {
    const bool ok = yours();
    say(exercise, what,
        std::string(ok ? "yours agrees with heed's" : "yours disagrees with heed's") +
            (detail.empty() ? "" : " (" + detail + ")"));
    return ok;
  } catch (const NotImplemented& e) {
    say(exercise, what, not_done(lesson, e.what()));
  } catch (const std::exception& e) {
    say(exercise, what, std::string("yours threw: ") + e.what());
  }
  return false;
}

}  // namespace heed::course
