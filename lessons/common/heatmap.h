// A heatmap of an attention matrix on the terminal: one cell per weight, with
// its row and column tokens as labels. Unicode shades ( ░▒▓█), in 256 colours
// when the output is a terminal that has them; plain shades when NO_COLOR is
// set or the output is not a terminal (a log file, a pipe, a test).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace heed::course {

struct TerminalHeatmapOptions {
  std::string title = {};
  std::vector<std::string> row_labels = {}, col_labels = {};  // empty: 0, 1, 2, ...
  // Colour: decided from the stream (a terminal, NO_COLOR, TERM) unless forced.
  enum class Colour { automatic, never, always } colour = Colour::automatic;
  // The values the shades span; outside it they are clipped. Weights are in
  // [0, 1]; for a long sequence (weights near 1/T) high = the row maximum reads better.
  double low = 0, high = 1;
};
// matrix: (R, C), values in [low, high] (by default [0, 1], for weights).
// Ends with a legend line: which shade (or colour) stands for which values.
void print_heatmap(std::ostream& out, const Tensor& matrix, const TerminalHeatmapOptions& options);

}  // namespace heed::course
