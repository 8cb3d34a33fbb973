// The training progress bar. On a terminal, one line redrawn in place (at
// most ten times a second, so printing never costs the training anything):
//   training  epoch 2/5  [#####.....] step 120/300  loss 0.8123  4,210 tok/s  ETA 0:12
// and at each epoch's end that line is completed and kept, so the epochs stay
// on screen. Elsewhere (a log, a pipe, the tests) a plain line per epoch:
//   training  epoch 2/5: loss 0.8123 (mean), 4210 tok/s, 3.1 s; val acc 97.3%
// The loss shown is the epoch's mean so far: one batch's loss is too noisy to read.
#include "lessons/common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <ostream>

namespace heed::course {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// 4210 -> "4,210" when grouped (the terminal line), "4210" in logs.
std::string count(int64_t n, bool grouped) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (grouped && i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// "3.1 s" under a minute, then "2:05" and "1:02:05".
std::string duration(double s) {
  char buffer[32];
  if (s < 60) {
    std::snprintf(buffer, sizeof buffer, "%.1f s", s);
  } else {
    const int64_t total = static_cast<int64_t>(s), h = total / 3600, m = total / 60 % 60, sec = total % 60;
    if (h > 0)
      std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", (long long)h, (long long)m, (long long)sec);
    else
      std::snprintf(buffer, sizeof buffer, "%lld:%02lld", (long long)m, (long long)sec);
  }
  return buffer;
}

// "0:12": the time left, always as minutes and seconds (hours when long).
std::string clock_time(double s) {
  if (s >= 60) return duration(s);
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0:%02d", static_cast<int>(s));
  return buffer;
}

std::string fixed(double v, int decimals) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

// Tokens per second, or 0 when there is nothing to divide.
int64_t rate(int64_t tokens, double seconds) {
  return tokens > 0 && seconds >= 1e-3 ? static_cast<int64_t>(std::llround(tokens / seconds)) : 0;
}

}  // namespace

Progress::Progress(ProgressOptions options) : options_(std::move(options)) {
  using Display = ProgressOptions::Display;
  out_ = options_.out ? options_.out : &std::cout;
  terminal_ = options_.display == Display::redraw ||
              (options_.display == Display::automatic && out_ == &std::cout && isatty(1));
  start_ = epoch_start_ = Clock::now();
  last_draw_ = start_ - std::chrono::seconds(1);  // the first step draws
}

void Progress::step(double loss, int64_t tokens) {
  ++step_;
  ++total_steps_;
  tokens = std::max<int64_t>(tokens, 0);
  tokens_ += tokens;
  epoch_tokens_ += tokens;
  loss_sum_ += loss;  // a NaN loss stays visible in the mean: the learner should see it
  ++loss_count_;
  last_loss_ = loss;
  if (!terminal_) return;
  const Clock::time_point now = Clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(100) || step_ == options_.steps_per_epoch) {
    last_draw_ = now;
    draw();
  }
}

void Progress::draw() {
  const Clock::time_point now = Clock::now();
  const int64_t per_epoch = std::max<int64_t>(options_.steps_per_epoch, 1);
  const int64_t filled = std::min<int64_t>(10, step_ * 10 / per_epoch);
  std::string line = options_.label.empty() ? "" : options_.label + "  ";
  line += "epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(options_.epochs) + "  [" +
          std::string(filled, '#') + std::string(10 - filled, '.') + "] step " + std::to_string(step_) + "/" +
          std::to_string(options_.steps_per_epoch);
  if (loss_count_ > 0) line += "  loss " + fixed(loss_sum_ / loss_count_, 4);
  const int64_t tokens_per_second = rate(epoch_tokens_, seconds_between(epoch_start_, now));
  if (tokens_per_second > 0) line += "  " + count(tokens_per_second, true) + " tok/s";
  // The time left, from the mean time per step so far over all epochs.
  const double elapsed = seconds_between(start_, now);
  const int64_t remaining = std::max<int64_t>(0, options_.epochs * per_epoch - total_steps_);
  if (total_steps_ > 0 && elapsed > 0) line += "  ETA " + clock_time(elapsed / total_steps_ * remaining);
  redraw_line(line);
}

void Progress::redraw_line(const std::string& line) {
  const size_t width = line.size();  // ASCII but for the label
  *out_ << '\r' << line << std::string(drawn_width_ > width ? drawn_width_ - width : 0, ' ') << std::flush;
  drawn_width_ = width;
}

void Progress::end_epoch(const std::string& note) {
  const Clock::time_point now = Clock::now();
  const double seconds = seconds_between(epoch_start_, now);
  const int64_t tokens_per_second = rate(epoch_tokens_, seconds);
  const std::string epoch = "epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(options_.epochs);
  std::string line = options_.label.empty() ? "" : options_.label + "  ";
  if (terminal_) {
    // The bar's last state, completed, with the epoch's time and the note; kept on screen.
    line += epoch + "  [##########] step " + std::to_string(step_) + "/" +
            std::to_string(options_.steps_per_epoch);
    if (loss_count_ > 0) line += "  loss " + fixed(loss_sum_ / loss_count_, 4) + " (mean)";
    if (tokens_per_second > 0) line += "  " + count(tokens_per_second, true) + " tok/s";
    line += "  " + duration(seconds);
    if (!note.empty()) line += "  " + note;
    redraw_line(line);
    *out_ << '\n' << std::flush;
    drawn_width_ = 0;
  } else {
    line += epoch + ": ";
    line += loss_count_ > 0 ? "loss " + fixed(loss_sum_ / loss_count_, 4) + " (mean)" : "no steps";
    if (tokens_per_second > 0) line += ", " + count(tokens_per_second, false) + " tok/s";
    line += ", " + duration(seconds);
    if (!note.empty()) line += "; " + note;
    *out_ << line << '\n' << std::flush;
  }
  ++epoch_;
  step_ = epoch_tokens_ = loss_count_ = 0;
  loss_sum_ = 0;
  epoch_start_ = now;
  last_draw_ = now - std::chrono::seconds(1);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (step_ > 0) end_epoch();  // an epoch left open still gets its line
  const double seconds = seconds_between(start_, Clock::now());
  std::string line = options_.label.empty() ? "" : options_.label + "  ";
  line += "done: " + count(epoch_, terminal_) + (epoch_ == 1 ? " epoch, " : " epochs, ") +
          count(total_steps_, terminal_) + (total_steps_ == 1 ? " step" : " steps") + " in " +
          duration(seconds);
  const int64_t tokens_per_second = rate(tokens_, seconds);
  if (tokens_per_second > 0) line += " (" + count(tokens_per_second, terminal_) + " tok/s)";
  *out_ << line << '\n' << std::flush;
}

Progress::~Progress() {
  try {
    if (std::uncaught_exceptions() == 0) {
      finish();
    } else if (drawn_width_ > 0) {  // unwinding: no summary, but the error starts on a line of its own
      *out_ << '\n' << std::flush;
    }
  } catch (...) {  // a destructor must not throw (a closed stream, say)
  }
}

}  // namespace heed::course
