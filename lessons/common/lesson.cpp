#include "lessons/common/lesson.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string_view>
#include <vector>

#include "tensor/error.h"
#include "tensor/threads.h"

namespace heed::course {
namespace {

// The figures written so far, for the summary line at the end.
std::vector<std::string>& figures_written() {
  static std::vector<std::string> figures;
  return figures;
}

constexpr const char* kValidFlags = "--quick, --seed N, --threads N, --out DIR, --help";

std::string two_digits(int n) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d", n);
  return buffer;
}

[[noreturn]] void bad_flag(const LessonInfo& info, const std::string& message) {
  std::fprintf(stderr, "lesson %s: %s (valid flags: %s)\n", two_digits(info.number).c_str(), message.c_str(),
               kValidFlags);
  std::exit(2);
}

// A whole number in [low, high], or a bad-flag exit naming the flag.
int64_t parse_number(const LessonInfo& info, std::string_view flag, const char* text, int64_t low,
                     int64_t high) {
  if (text == nullptr) bad_flag(info, std::string(flag) + " needs a value");
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < low || value > high)
    bad_flag(info, std::string(flag) + " takes a whole number from " + std::to_string(low) + " to " +
                       std::to_string(high) + ", not '" + text + "'");
  return value;
}

}  // namespace

Lesson::Lesson(LessonInfo info, Flags flags) : info_(std::move(info)), flags_(std::move(flags)) {}

std::string Lesson::tag() const { return two_digits(info_.number); }

void Lesson::section(int number, const std::string& title) const {
  std::printf("\n== %d. %s\n\n", number, title.c_str());
  std::fflush(stdout);
}

std::string Lesson::figure(const std::string& name) const {
  std::error_code error;
  std::filesystem::create_directories(flags_.out, error);
  HEED_CHECK(!error, "lesson ", tag(), ": cannot make the figures folder '", flags_.out,
             "': ", error.message(), " (choose another with --out DIR)");
  std::string path = (std::filesystem::path(flags_.out) / (tag() + "_" + name + ".svg")).string();
  figures_written().push_back(path);
  return path;
}

Flags parse_flags(int argc, char** argv, const LessonInfo& info) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "lesson %s: %s (lessons/%s_%s/lesson.cpp)\n\n"
          "  --quick       a short run: small data, few steps (what `make run` and the tests use)\n"
          "  --seed N      the seed of every random choice (default 0)\n"
          "  --threads N   threads for heed's kernels (default: HEED_THREADS, else one per core)\n"
          "  --out DIR     where the SVG figures go (default: figures)\n"
          "  --help        this text\n",
          two_digits(info.number).c_str(), info.title.c_str(), two_digits(info.number).c_str(),
          info.topic.c_str());
      std::exit(0);
    } else if (arg == "--quick") {
      flags.quick = true;
    } else if (arg == "--seed") {
      flags.seed = uint64_t(parse_number(info, arg, value, 0, int64_t(1) << 62));
      ++i;
    } else if (arg == "--threads") {
      flags.threads = int(parse_number(info, arg, value, 1, 256));
      ++i;
    } else if (arg == "--out") {
      if (value == nullptr || *value == '\0') bad_flag(info, "--out needs a folder");
      flags.out = value;
      ++i;
    } else {
      bad_flag(info, "unknown flag '" + std::string(arg) + "'");
    }
  }
  return flags;
}

int run_lesson(int argc, char** argv, const LessonInfo& info,
               const std::function<void(const Lesson&)>& body) {
  const Flags flags = parse_flags(argc, argv, info);
  const auto start = std::chrono::steady_clock::now();
  try {
    if (flags.threads > 0) set_num_threads(flags.threads);
    Lesson lesson(info, flags);
    std::printf("heed lesson %s: %s%s\n", lesson.tag().c_str(), info.title.c_str(),
                flags.quick ? " (quick)" : "");
    std::fflush(stdout);
    body(lesson);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lesson %s: %s\n", two_digits(info.number).c_str(), e.what());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nlesson %s done in %.1f s", two_digits(info.number).c_str(), seconds);
  if (!figures_written().empty()) {
    std::printf("; figures (open in a browser):\n");
    for (const std::string& path : figures_written()) std::printf("  %s\n", path.c_str());
  } else {
    std::printf("\n");
  }
  return 0;
}

}  // namespace heed::course
