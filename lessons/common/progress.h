// A progress bar for training: epoch, step, loss, tokens/s and the time left.
// On a terminal it redraws one line in place; when the output is not a
// terminal (a log, a pipe, the tests) it prints one plain line per epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace heed::course {

struct ProgressOptions {
  std::string label = {};  // "training"
  int64_t epochs = 1;
  int64_t steps_per_epoch = 1;
  // Where it prints (nullptr: std::cout) and how: `automatic` redraws in place
  // when that is std::cout on a terminal, else prints a line per epoch.
  std::ostream* out = nullptr;
  enum class Display { automatic, redraw, lines } display = Display::automatic;
};

class Progress {
 public:
  explicit Progress(ProgressOptions options);
  // After each training step: its loss and how many tokens it saw.
  void step(double loss, int64_t tokens = 0);
  // At the end of an epoch; `note` is shown beside it ("val acc 97.3%").
  void end_epoch(const std::string& note = "");
  // The last line, with the total time; called by the destructor if not before.
  void finish();
  ~Progress();

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  ProgressOptions options_;
  std::ostream* out_;
  bool terminal_;  // redraw one line in place (else a line per epoch)
  bool finished_ = false;
  // step_, epoch_tokens_ and the loss sums count the epoch under way.
  int64_t epoch_ = 0, step_ = 0, total_steps_ = 0, tokens_ = 0, epoch_tokens_ = 0;
  double loss_sum_ = 0, last_loss_ = 0;
  int64_t loss_count_ = 0;
  size_t drawn_width_ = 0;  // of the line now on screen, to blank what a shorter one leaves
  std::chrono::steady_clock::time_point start_, epoch_start_, last_draw_;
  void draw();
  void redraw_line(const std::string& line);
};

}  // namespace heed::course
