// A progress bar for training: epoch, step, loss, tokens/s and the time left.
// On a terminal it redraws one line in place; when the output is not a
// terminal (a log, a pipe, the tests) it prints one plain line per epoch.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace heed::course {

struct ProgressOptions {
  std::string label;  // "training"
  int64_t epochs = 1;
  int64_t steps_per_epoch = 1;
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
  bool terminal_;
  bool finished_ = false;
  int64_t epoch_ = 0, step_ = 0, tokens_ = 0, epoch_tokens_ = 0;
  double loss_sum_ = 0, last_loss_ = 0;
  int64_t loss_count_ = 0;
  std::chrono::steady_clock::time_point start_, epoch_start_, last_draw_;
  void draw();
};

}  // namespace heed::course
