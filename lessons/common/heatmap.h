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
  std::string title;
  std::vector<std::string> row_labels, col_labels;  // empty: 0, 1, 2, ...
  // Colour: decided from the stream (a terminal, NO_COLOR, TERM) unless forced.
  enum class Colour { automatic, never, always } colour = Colour::automatic;
};
// matrix: (R, C), values in [0, 1] for weights (larger values are clipped).
void print_heatmap(std::ostream& out, const Tensor& matrix, const TerminalHeatmapOptions& options);

}  // namespace heed::course
