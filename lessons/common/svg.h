// SVG figures, written by hand (no plotting library): they open in any browser.
// Each writer makes the whole file in memory, writes it beside its final name
// and renames it, so a figure is never left half-written; a path that cannot
// be written is a heed::Error naming it.
#pragma once

#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace heed::course {

// A heatmap of a (R, C) matrix (attention weights: rows are queries, columns
// keys), each cell labelled by hover text, rows and columns by tokens, with a
// colour bar from `low` to `high` (both default to the data's range).
struct HeatmapSvgOptions {
  std::string title = {};
  std::vector<std::string> row_labels = {}, col_labels = {};  // empty: 0, 1, 2, ...
  std::string x_label = "key", y_label = "query";
  double low = 0, high = 0;  // low == high: the data's min and max
};
void write_heatmap_svg(const std::string& path, const Tensor& matrix, const HeatmapSvgOptions& options);

// Line plots: several series on shared axes, with a legend (loss and accuracy
// curves, time against length). Log axes need positive values.
struct Series {
  std::string name = {};
  std::vector<double> x = {}, y = {};  // non-finite points leave a gap in the line
};
struct LinePlotOptions {
  std::string title = {}, x_label = {}, y_label = {};
  bool log_x = false, log_y = false;
};
void write_line_plot_svg(const std::string& path, const std::vector<Series>& series,
                         const LinePlotOptions& options);

// A bar chart (lesson 03's GFLOP/s per rung), optionally with a dashed
// reference line (the machine's peak).
struct Bar {
  std::string label = {};
  double value = 0;
};
struct BarChartOptions {
  std::string title = {}, y_label = {};
  double reference = 0;              // 0: none
  std::string reference_label = {};  // empty: the reference's value
  bool log_y = false;
};
void write_bar_chart_svg(const std::string& path, const std::vector<Bar>& bars,
                         const BarChartOptions& options);

}  // namespace heed::course
