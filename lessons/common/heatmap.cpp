// The terminal heatmap: each weight is a cell two columns wide (a terminal
// cell is about twice as tall as wide, so two make a square), row tokens on
// the left, column tokens written downwards above their columns:
//
//          t c s .
//          h a a
//          e t t
//    the  │██░░    │
//    cat  │▒▒██    │
//         [  ] 0-0.2  [░░] 0.2-0.4  [▒▒] 0.4-0.6  [▓▓] 0.6-0.8  [██] 0.8-1
//
// With colour each cell is a background from the 256-colour palette nearest
// to the SVG figures' viridis ramp (dark = low, yellow = high).
#include "lessons/common/heatmap.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <ostream>

#include "lessons/common/colour_map.h"
#include "lessons/common/utf8.h"
#include "tensor/error.h"

namespace heed::course {
namespace {

using detail::code_points;
using detail::shorten;

constexpr const char* kShades[] = {" ", "\u2591", "\u2592", "\u2593", "\u2588"};  // " ░▒▓█"
constexpr int kLevels = 5;
constexpr size_t kMaxRowLabel = 12, kMaxColLabel = 6;

// Colour by default only where it renders: our own terminal, unless the user
// opted out (NO_COLOR, https://no-color.org: set and not empty) or the
// terminal says it has no escapes (TERM=dumb).
bool use_colour(const std::ostream& out, TerminalHeatmapOptions::Colour colour) {
  using Colour = TerminalHeatmapOptions::Colour;
  if (colour != Colour::automatic) return colour == Colour::always;
  const char* no_colour = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return &out == &std::cout && isatty(1) && !(no_colour && *no_colour) &&
         !(term && std::strcmp(term, "dumb") == 0);
}

// The xterm 256-colour index nearest to `c`: its 6 x 6 x 6 cube has the
// levels 0, 95, 135, 175, 215, 255 per channel.
int xterm_index(const detail::Rgb& c) {
  const auto level = [](double x) {
    const int v = static_cast<int>(std::lround(std::clamp(x, 0.0, 1.0) * 255));
    return v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40;
  };
  return 16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b);
}

std::string compact(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", v);
  return buffer;
}

// `text` right-aligned in `width` terminal columns.
std::string pad_left(const std::string& text, size_t width) {
  const size_t n = code_points(text).size();
  return std::string(width > n ? width - n : 0, ' ') + text;
}

}  // namespace

void print_heatmap(std::ostream& out, const Tensor& matrix, const TerminalHeatmapOptions& options) {
  HEED_CHECK(matrix.defined() && matrix.dim() == 2, "print_heatmap: needs a 2-D (rows, cols) matrix, not ",
             matrix.defined() ? matrix.shape() : Shape{});
  const int64_t rows = matrix.size(0), cols = matrix.size(1);
  HEED_CHECK(rows > 0 && cols > 0, "print_heatmap: the matrix ", matrix.shape(), " is empty");
  HEED_CHECK(options.low < options.high, "print_heatmap: the value range [", options.low, ", ", options.high,
             "] is empty");
  const auto labels = [&](const std::vector<std::string>& given, int64_t n, const char* what,
                          size_t max_points) {
    HEED_CHECK(given.empty() || static_cast<int64_t>(given.size()) == n, "print_heatmap: ", given.size(), " ",
               what, " labels for a matrix ", matrix.shape(), " (give ", n, ", or none for 0, 1, 2, ...)");
    std::vector<std::string> shown;
    for (int64_t i = 0; i < n; ++i)
      shown.push_back(shorten(given.empty() ? std::to_string(i) : given[i], max_points));
    return shown;
  };
  const std::vector<std::string> row_labels = labels(options.row_labels, rows, "row", kMaxRowLabel);
  const std::vector<std::string> col_labels = labels(options.col_labels, cols, "column", kMaxColLabel);
  const bool colour = use_colour(out, options.colour);
  const std::vector<float> values = matrix.to_vector();
  const double low = options.low, high = options.high;

  size_t row_w = 0, col_h = 0;
  for (const std::string& l : row_labels) row_w = std::max(row_w, code_points(l).size());
  for (const std::string& l : col_labels) col_h = std::max(col_h, code_points(l).size());
  const std::string indent(row_w + 3, ' ');  // "label" + "  │"

  std::string text;
  if (!options.title.empty()) text += options.title + "\n";
  // Column tokens: on one line when every one is a single character (two
  // would touch their neighbours: "1011" for 10, 11), else downwards, one
  // character per line.
  if (col_h <= 1) {
    std::string row = indent;
    for (const std::string& l : col_labels) row += l + std::string(2 - code_points(l).size(), ' ');
    while (!row.empty() && row.back() == ' ') row.pop_back();
    text += row + "\n";
  } else {
    std::vector<std::vector<std::string>> points;
    for (const std::string& l : col_labels) points.push_back(code_points(l));
    for (size_t line = 0; line < col_h; ++line) {
      std::string row = indent;
      for (const auto& p : points) row += (line < p.size() ? p[line] : std::string(" ")) + " ";
      while (!row.empty() && row.back() == ' ') row.pop_back();
      text += row + "\n";
    }
  }

  for (int64_t i = 0; i < rows; ++i) {
    text += pad_left(row_labels[i], row_w) + "  \u2502";
    int current = -1;  // the background now set; -1: the terminal's own
    for (int64_t j = 0; j < cols; ++j) {
      const double v = values[i * cols + j];
      const double t = std::clamp((v - low) / (high - low), 0.0, 1.0);
      if (std::isnan(v)) {
        if (current != -1) text += "\033[0m";
        current = -1;
        text += "??";
      } else if (colour) {
        const int index = xterm_index(detail::viridis(t));
        if (index != current) text += "\033[48;5;" + std::to_string(index) + "m";
        current = index;
        text += "  ";
      } else {
        const char* shade = kShades[std::min(kLevels - 1, static_cast<int>(t * kLevels))];
        (text += shade) += shade;
      }
    }
    if (current != -1) text += "\033[0m";
    text += "\u2502\n";
  }

  // The legend: what each shade (or the colour ramp) stands for.
  text += indent.substr(0, indent.size() - 1);
  if (colour) {
    text += compact(low) + " ";
    for (int k = 0; k < 10; ++k)
      text += "\033[48;5;" + std::to_string(xterm_index(detail::viridis(k / 9.0))) + "m ";
    text += "\033[0m " + compact(high) + "  (dark = low, yellow = high)\n";
  } else {
    const char* dash = low < 0 ? " to " : "-";  // "-0.2--0.1" would not read
    for (int k = 0; k < kLevels; ++k) {
      const double from = low + (high - low) * k / kLevels, to = low + (high - low) * (k + 1) / kLevels;
      text += std::string(k ? "  " : "") + "[" + kShades[k] + kShades[k] + "] " + compact(from) + dash +
              compact(to);
    }
    text += "\n";
  }
  out << text << std::flush;
}

}  // namespace heed::course
