// What every lesson program shares: its flags, its figures folder, its
// sections, and one clear line (and exit 1) for any heed::Error.
//
//   int main(int argc, char** argv) {
//     return heed::course::run_lesson(argc, argv, {.number = 6, .topic = "bahdanau",
//                                     .title = "Bahdanau attention"}, [](const Lesson& lesson) {
//       lesson.section(1, "the bottleneck, again");
//       ...
//     });
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace heed::course {

// The flags every lesson takes.
struct Flags {
  bool quick = false;           // --quick: small data, few steps (the tour and the tests use it)
  uint64_t seed = 0;            // --seed N: every random choice of the lesson follows it
  int threads = 0;              // --threads N: kernels' threads (0: HEED_THREADS, else one per core)
  std::string out = "figures";  // --out DIR: where the SVG figures go
};

struct LessonInfo {
  int number = 0;     // 6
  std::string topic;  // "bahdanau": the folder is lessons/06_bahdanau
  std::string title;  // "Bahdanau attention"
};

class Lesson {
 public:
  Lesson(LessonInfo info, Flags flags);

  const Flags& flags() const { return flags_; }
  bool quick() const { return flags_.quick; }
  uint64_t seed() const { return flags_.seed; }
  const LessonInfo& info() const { return info_; }
  // "06": the lesson's number as its folder and figures spell it.
  std::string tag() const;

  // Prints a numbered section heading: "== 3. the additive score".
  void section(int number, const std::string& title) const;
  // The path of figure `name` in the figures folder, made if missing:
  // figure("heatmap") is "figures/06_heatmap.svg". Remembered for the summary
  // and for the folder's index.html, where `caption` says what to look for.
  std::string figure(const std::string& name, const std::string& caption = "") const;
  // `quick_value` under --quick, else `full_value`: lesson.pick(200, 3000) steps.
  template <class T>
  T pick(T quick_value, T full_value) const {
    return flags_.quick ? quick_value : full_value;
  }

 private:
  LessonInfo info_;
  Flags flags_;
};

// Parses argv into Flags. --help prints the usage and exits 0; an unknown flag
// or a bad value prints one line naming it and listing the valid flags, and
// exits 2.
Flags parse_flags(int argc, char** argv, const LessonInfo& info);

// The whole of a lesson's main(): parses the flags, sets the threads, prints the
// title, runs `body`, then lists the figures written and the run time, and
// rewrites the figures folder's index.html (every lesson's figures, under its
// number and title, from the NN_figures.tsv each lesson leaves there). A
// heed::Error (or any std::exception) becomes one line on stderr and exit 1.
int run_lesson(int argc, char** argv, const LessonInfo& info, const std::function<void(const Lesson&)>& body);

}  // namespace heed::course
