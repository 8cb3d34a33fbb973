// `make exercises`: the exercise tests run against the learner's own files,
// reported as a scoreboard instead of doctest's log:
//
//   lesson 01 tensors      1/3 exercises pass
//   lesson 02 autograd     0/3 exercises pass
//   next: lesson 01, exercise 2: ... (its hint)
//
// An exercise passes when every test case named "lesson NN, exercise K: ..."
// passes. A stub still throwing heed::NotImplemented is "not done"; anything
// else that fails is shown with its first message, for the learner to fix.
// Exit status 0 whatever the score (a scoreboard is not a failure).
// --expect-stubs (CI, on a fresh clone): exit 1 unless every exercise test
// fails with NotImplemented, which shows the tests do bite.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <utility>

#include "tensor/error.h"

namespace {

constexpr const char* kNotImplemented = "NotImplemented: ";

enum class State { pass, not_done, fails };

struct Exercise {
  State state = State::pass;
  std::string title, message;  // the test's title; the first failure's message
};

struct Lesson {
  std::string topic;
  std::map<int, Exercise> exercises;
};

std::map<int, Lesson>& board() {
  static std::map<int, Lesson> lessons;
  return lessons;
}

// "lesson 06, exercise 2: the additive score" -> (6, 2, "the additive score")
bool parse_name(const char* name, int& lesson, int& exercise, std::string& title) {
  int consumed = 0;
  if (std::sscanf(name, "lesson %d, exercise %d: %n", &lesson, &exercise, &consumed) != 2 || consumed == 0)
    return false;
  title = name + consumed;
  return true;
}

// ".../tests/lessons/test_06_bahdanau.cpp" -> "bahdanau"
std::string topic_of(const char* file) {
  std::string path = file;
  const size_t slash = path.find_last_of('/');
  std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.rfind("test_", 0) == 0 && base.size() > 8) base = base.substr(8);
  const size_t dot = base.find('.');
  return base.substr(0, dot);
}

class ScoreboardReporter : public doctest::IReporter {
 public:
  explicit ScoreboardReporter(const doctest::ContextOptions&) {}

  void test_case_start(const doctest::TestCaseData& test) override {
    current_ = nullptr;
    case_not_implemented_ = case_failed_ = false;
    int lesson = 0, exercise = 0;
    std::string title;
    if (!parse_name(test.m_name, lesson, exercise, title)) return;
    Lesson& l = board()[lesson];
    l.topic = topic_of(test.m_file.c_str());
    current_ = &l.exercises[exercise];
    if (current_->title.empty()) current_->title = title;
  }
  void test_case_exception(const doctest::TestCaseException& e) override {
    if (current_ == nullptr) return;
    const std::string what = e.error_string.c_str();
    if (what.rfind(kNotImplemented, 0) == 0) {
      case_not_implemented_ = true;
      if (current_->state == State::pass) {
        current_->state = State::not_done;
        current_->message = what.substr(std::strlen(kNotImplemented));
      }
    } else {
      fail(std::string(e.is_crash ? "crashed: " : "threw: ") + what);
    }
  }
  void log_assert(const doctest::AssertData& a) override {
    if (a.m_failed)
      fail(std::string(a.m_expr) + (a.m_decomp.size() ? std::string(" with ") + a.m_decomp.c_str() : ""));
  }
  void log_message(const doctest::MessageData& m) override {
    if (m.m_severity & doctest::assertType::is_warn) return;
    fail(m.m_string.c_str());
  }
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (current_ == nullptr) return;
    if (!stats.testCaseSuccess && current_->state == State::pass) fail("failed");
    ++cases;
    cases_biting += case_not_implemented_ && !case_failed_;
  }

  // Over all exercise test cases: how many ran, and how many failed only by
  // a stub's NotImplemented (--expect-stubs wants them equal).
  static inline int cases = 0, cases_biting = 0;

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  Exercise* current_ = nullptr;
  bool case_not_implemented_ = false, case_failed_ = false;
  void fail(const std::string& message) {
    case_failed_ = true;
    if (current_ == nullptr || current_->state == State::fails) return;
    current_->state = State::fails;  // a wrong answer outranks "not done"
    current_->message = message;
  }
};

REGISTER_REPORTER("scoreboard", 1, ScoreboardReporter);

}  // namespace

// A stub's NotImplemented reaches the reporter marked as such.
REGISTER_EXCEPTION_TRANSLATOR(const heed::NotImplemented& e) {
  return doctest::String(kNotImplemented) + e.what();
}

int main(int argc, char** argv) {
  bool expect_stubs = false;
  for (int i = 1; i < argc; ++i) expect_stubs |= std::strcmp(argv[i], "--expect-stubs") == 0;

  doctest::Context context;
  context.setOption("reporters", "scoreboard");
  context.setOption("test-case", "lesson *");
  context.setOption("no-breaks", true);
  context.applyCommandLine(argc, argv);
  context.run();

  std::printf("\nheed exercises: your files (lessons/NN_topic/exercises.cpp) against the tests\n\n");
  int total = 0, passed = 0;
  const Exercise* next = nullptr;
  int next_lesson = 0, next_exercise = 0;
  for (const auto& [number, lesson] : board()) {
    int pass = 0;
    for (const auto& [k, exercise] : lesson.exercises) {
      pass += exercise.state == State::pass;
      if (exercise.state != State::pass && next == nullptr) {
        next = &exercise;
        next_lesson = number;
        next_exercise = k;
      }
    }
    total += int(lesson.exercises.size());
    passed += pass;
    std::printf("  lesson %02d %-24s %d/%zu exercises pass\n", number, lesson.topic.c_str(), pass,
                lesson.exercises.size());
  }
  std::printf("\n  %d of %d exercises pass\n", passed, total);
  if (next != nullptr) {
    std::printf("\nnext: lesson %02d, exercise %d (%s)\n  %s\n", next_lesson, next_exercise,
                next->title.c_str(),
                next->state == State::not_done ? next->message.c_str()
                                               : ("not passing yet: " + next->message).c_str());
  } else if (total > 0) {
    std::printf("\nevery exercise passes: well done.\n");
  }
  if (expect_stubs) {
    const int cases = ScoreboardReporter::cases, biting = ScoreboardReporter::cases_biting;
    if (cases == 0 || biting != cases) {
      std::printf(
          "\nheed_exercises --expect-stubs: %d of %d exercise tests did not fail with NotImplemented\n",
          cases - biting, cases);
      return 1;
    }
    std::printf("\nheed_exercises --expect-stubs: all %d exercise tests fail on the stubs\n", cases);
  }
  return 0;
}
