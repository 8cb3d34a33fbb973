// SVG by hand: each writer lays its figure out in pixels, appends elements to
// one string and hands it to write_atomically (path.tmp, then rename).
//
// Sizes are kept small on purpose: a heatmap's cells sit in a group scaled to
// the cell size, so a cell is <rect x="j" y="i" width="1" height="1" ...>
// with its hover <title>, in a group per row; a 40 x 40 heatmap of five-letter
// tokens is ~150 KB.
// Text widths are estimated (0.6 em per code point: no font metrics here).
#include "lessons/common/svg.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string_view>

#include "lessons/common/colour_map.h"
#include "lessons/common/utf8.h"
#include "tensor/error.h"

namespace heed::course {
namespace {

using detail::code_points;
using detail::shorten;

// ------------------------------------------------------------------ text

// XML text and attribute values: &, <, >, " and ' escaped (code_points has
// already made control characters and broken UTF-8 into '?').
std::string escape(const std::string& text) {
  std::string out;
  for (const std::string& p : code_points(text)) {
    if (p == "&")
      out += "&amp;";
    else if (p == "<")
      out += "&lt;";
    else if (p == ">")
      out += "&gt;";
    else if (p == "\"")
      out += "&quot;";
    else if (p == "'")
      out += "&apos;";
    else
      out += p;
  }
  return out;
}

// A coordinate: at most two decimals, no trailing zeros ("12", "12.5").
std::string num(double v) {
  if (!std::isfinite(v) || std::abs(v) < 0.005) return "0";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  std::string s = buffer;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// %g without its padding: "1e-05" -> "1e-5", "2e+06" -> "2e6".
std::string compact_g(double v, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  std::string s = buffer;
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, 1);
  while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
  return mantissa + "e" + (negative ? "-" : "") + exponent;
}

// A tick of a linear axis: as many decimals as its step needs (steps are 1, 2
// or 5 x 10^k, so 0.2 needs one), %g for the very large or small.
std::string tick_label(double v, double step) {
  if (std::abs(v) < step * 1e-6) v = 0;
  const double a = std::abs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-4)) return compact_g(v, 3);
  const int decimals = std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 6);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

// A tick of a log axis: "0.001", "50", "1000", "1e6".
std::string log_tick_label(double v) { return compact_g(v, 6); }

// A value shown as hover text or above a bar.
std::string value_label(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::abs(v);
  char buffer[32];
  if (a >= 1000 && a < 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.0f", v);
    return buffer;
  }
  return compact_g(v, 3);
}

// The hover text of a heatmap cell: weights keep three decimals ("0.734").
std::string cell_label(double v) {
  if (!std::isfinite(v) || std::abs(v) >= 1000) return value_label(v);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}

double text_width(const std::string& text, double font_size) {
  return static_cast<double>(code_points(text).size()) * font_size * 0.6;
}

// Appends the parts to `out`; numbers go through num().
struct Part {
  std::string text;
  Part(const std::string& s) : text(s) {}
  Part(const char* s) : text(s) {}
  Part(double v) : text(num(v)) {}
  Part(int v) : text(std::to_string(v)) {}
  Part(int64_t v) : text(std::to_string(v)) {}
};
void add(std::string& out, std::initializer_list<Part> parts) {
  for (const Part& p : parts) out += p.text;
}

std::string hex(const detail::Rgb& c) {
  char buffer[8];
  const auto byte = [](double x) { return static_cast<int>(std::lround(std::clamp(x, 0.0, 1.0) * 255)); };
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", byte(c.r), byte(c.g), byte(c.b));
  return buffer;
}

// A categorical palette (matplotlib's tab10) for series.
const char* series_colour(size_t i) {
  static constexpr const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[i % 10];
}

// ------------------------------------------------------------------ files

// Writes `text` to path.tmp, then renames it over `path`: a reader (or a
// crash) never sees half a figure.
void write_atomically(const std::string& path, const std::string& text, const char* op) {
  const std::string tmp = path + ".tmp";
  const auto fail = [&](const char* what, int error) {
    std::remove(tmp.c_str());
    throw Error(heed::detail::concat(op, ": cannot ", what, " '", path, "'", error ? ": " : "",
                                     error ? std::strerror(error) : "",
                                     " (does its folder exist and can you write there? choose another folder "
                                     "with --out DIR)"));
  };
  errno = 0;
  std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
  if (!file) fail("write", errno);
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) fail("write", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("replace", errno);
}

// The document around a figure's body: the SVG root with its namespace, the
// <title> (what a browser tab and a screen reader show) and a white page.
std::string document(double width, double height, const std::string& title, const char* fallback,
                     const std::string& body) {
  std::string svg;
  add(svg,
      {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"",
       std::ceil(width), "\" height=\"", std::ceil(height), "\" viewBox=\"0 0 ", std::ceil(width), " ",
       std::ceil(height), "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n", "<title>",
       escape(title.empty() ? fallback : title), "</title>\n",
       "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"});
  if (!title.empty())
    add(svg,
        {"<text x=\"", width / 2, "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
         escape(title), "</text>\n"});
  return svg + body + "</svg>\n";
}

// ------------------------------------------------------------------ axes

// An axis: its range, the ticks that carry a label and a grid line, and (on a
// log axis) the unlabelled 2..9 x 10^k grid lines.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks, minor;
  std::vector<std::string> labels;
  double fraction(double v) const {
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
};

// 1, 2 or 5 x 10^k, giving about `target` steps over `span`.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / magnitude;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

// A linear axis over [lo, hi], widened to whole steps.
Axis linear_axis(double lo, double hi, int target) {
  if (!(hi > lo)) {  // one value: a band around it
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, target);
  Axis axis;
  const double k0 = std::floor(lo / step + 1e-9), k1 = std::ceil(hi / step - 1e-9);
  axis.lo = k0 * step;
  axis.hi = k1 * step;
  for (double k = k0; k <= k1; ++k) {  // k * step, not a running sum: no drift
    axis.ticks.push_back(k * step);
    axis.labels.push_back(tick_label(k * step, step));
  }
  return axis;
}

// A log axis over [lo, hi] (both > 0), widened to whole decades. A tick per
// decade (every second or third decade when there are many), 2 and 5 x 10^k
// labelled too when the range is a single decade.
Axis log_axis(double lo, double hi) {
  Axis axis;
  axis.log = true;
  int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  if (e1 <= e0) e1 = e0 + 1;
  axis.lo = std::pow(10.0, e0);
  axis.hi = std::pow(10.0, e1);
  const int decades = e1 - e0, every = (decades + 7) / 8;
  for (int e = e0; e <= e1; ++e) {
    const double decade = std::pow(10.0, e);
    if ((e - e0) % every == 0) {
      axis.ticks.push_back(decade);
      axis.labels.push_back(log_tick_label(decade));
    }
    if (e == e1 || decades > 5) continue;
    for (int m = 2; m <= 9; ++m) {
      if (decades == 1 && (m == 2 || m == 5)) {
        axis.ticks.push_back(m * decade);
        axis.labels.push_back(log_tick_label(m * decade));
      } else {
        axis.minor.push_back(m * decade);
      }
    }
  }
  return axis;
}

// The plot area in pixels and its two axes (a bar chart's x is categorical and
// only uses left and width).
struct Frame {
  double left = 0, top = 0, width = 0, height = 0;
  Axis x, y;
  double px(double v) const { return left + x.fraction(v) * width; }
  double py(double v) const { return top + (1 - y.fraction(v)) * height; }
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

double widest(const std::vector<std::string>& labels, double font_size) {
  double w = 0;
  for (const std::string& l : labels) w = std::max(w, text_width(l, font_size));
  return w;
}

// Grid lines, tick labels and the y label, left of the frame.
void draw_y_axis(std::string& svg, const Frame& f, const std::string& label) {
  svg += "<g class=\"y-axis\">\n";
  for (double v : f.y.minor)
    add(svg, {"<line x1=\"", f.left, "\" x2=\"", f.right(), "\" y1=\"", f.py(v), "\" y2=\"", f.py(v),
              "\" stroke=\"#f0f0f0\"/>\n"});
  for (size_t i = 0; i < f.y.ticks.size(); ++i) {
    const double y = f.py(f.y.ticks[i]);
    add(svg, {"<line x1=\"", f.left, "\" x2=\"", f.right(), "\" y1=\"", y, "\" y2=\"", y,
              "\" stroke=\"#dddddd\"/>\n"});
    add(svg, {"<line x1=\"", f.left - 4, "\" x2=\"", f.left, "\" y1=\"", y, "\" y2=\"", y,
              "\" stroke=\"black\"/>\n"});
    add(svg, {"<text x=\"", f.left - 7, "\" y=\"", y,
              "\" dy=\"0.35em\" text-anchor=\"end\" font-size=\"11\">", escape(f.y.labels[i]), "</text>\n"});
  }
  if (!label.empty()) {
    const double x = f.left - 14 - widest(f.y.labels, 11);
    add(svg, {"<text transform=\"translate(", x, " ", f.top + f.height / 2,
              ") rotate(-90)\" text-anchor=\"middle\">", escape(label), "</text>\n"});
  }
  add(svg, {"<line x1=\"", f.left, "\" x2=\"", f.left, "\" y1=\"", f.top, "\" y2=\"", f.bottom(),
            "\" stroke=\"black\"/>\n</g>\n"});
}

// Grid lines, tick labels and the x label, below the frame.
void draw_x_axis(std::string& svg, const Frame& f, const std::string& label) {
  svg += "<g class=\"x-axis\">\n";
  for (double v : f.x.minor)
    add(svg, {"<line x1=\"", f.px(v), "\" x2=\"", f.px(v), "\" y1=\"", f.top, "\" y2=\"", f.bottom(),
              "\" stroke=\"#f0f0f0\"/>\n"});
  for (size_t i = 0; i < f.x.ticks.size(); ++i) {
    const double x = f.px(f.x.ticks[i]);
    add(svg, {"<line x1=\"", x, "\" x2=\"", x, "\" y1=\"", f.top, "\" y2=\"", f.bottom(),
              "\" stroke=\"#dddddd\"/>\n"});
    add(svg, {"<line x1=\"", x, "\" x2=\"", x, "\" y1=\"", f.bottom(), "\" y2=\"", f.bottom() + 4,
              "\" stroke=\"black\"/>\n"});
    add(svg, {"<text x=\"", x, "\" y=\"", f.bottom() + 17, "\" text-anchor=\"middle\" font-size=\"11\">",
              escape(f.x.labels[i]), "</text>\n"});
  }
  if (!label.empty())
    add(svg, {"<text x=\"", f.left + f.width / 2, "\" y=\"", f.bottom() + 38, "\" text-anchor=\"middle\">",
              escape(label), "</text>\n"});
  add(svg, {"<line x1=\"", f.left, "\" x2=\"", f.right(), "\" y1=\"", f.bottom(), "\" y2=\"", f.bottom(),
            "\" stroke=\"black\"/>\n</g>\n"});
}

}  // namespace

// ------------------------------------------------------------------ heatmap

void write_heatmap_svg(const std::string& path, const Tensor& matrix, const HeatmapSvgOptions& options) {
  constexpr const char* op = "write_heatmap_svg";
  HEED_CHECK(matrix.defined() && matrix.dim() == 2, op, ": '", path,
             "' needs a 2-D (rows, cols) matrix, not ", matrix.defined() ? matrix.shape() : Shape{});
  const int64_t rows = matrix.size(0), cols = matrix.size(1);
  HEED_CHECK(rows > 0 && cols > 0, op, ": '", path, "': the matrix ", matrix.shape(), " is empty");
  const auto labels = [&](const std::vector<std::string>& given, int64_t n, const char* what) {
    HEED_CHECK(given.empty() || static_cast<int64_t>(given.size()) == n, op, ": '", path, "': ", given.size(),
               " ", what, " labels for a matrix ", matrix.shape(), " (give ", n,
               ", or none for 0, 1, 2, ...)");
    std::vector<std::string> out = given;
    for (int64_t i = static_cast<int64_t>(given.size()); i < n; ++i) out.push_back(std::to_string(i));
    return out;
  };
  const std::vector<std::string> row_labels = labels(options.row_labels, rows, "row");
  const std::vector<std::string> col_labels = labels(options.col_labels, cols, "column");
  const std::vector<float> values = matrix.to_vector();

  double low = options.low, high = options.high;
  HEED_CHECK(low <= high, op, ": '", path, "': the colour range low ", low, " is above high ", high);
  if (low == high) {
    low = std::numeric_limits<double>::infinity();
    high = -low;
    for (float v : values)
      if (std::isfinite(v)) low = std::min(low, double(v)), high = std::max(high, double(v));
    if (!(low <= high)) low = 0, high = 1;     // nothing finite
    if (low == high) low -= 0.5, high += 0.5;  // constant: the middle colour
  }

  // Layout (pixels), left to right: y label, row labels, cells, colour bar;
  // top to bottom: title, x label, column labels, cells.
  const double cell = std::clamp(std::floor(480.0 / std::max(rows, cols)), 8.0, 36.0);
  const double font = std::clamp(std::floor(cell * 0.75), 8.0, 13.0);
  std::vector<std::string> row_shown, col_shown;
  for (const auto& l : row_labels) row_shown.push_back(shorten(l, 16));
  for (const auto& l : col_labels) col_shown.push_back(shorten(l, 16));
  const double row_w = widest(row_shown, font), col_w = widest(col_shown, font);
  // A label wider than its column leans at 45 degrees, or stands upright when
  // the columns are too narrow for leaning labels not to touch.
  const bool rotate = col_w > cell - 2, upright = rotate && cell < 1.6 * font;
  const double lean = upright ? 1.0 : 0.7072;  // the share of a label's width that rises
  const double col_band = rotate ? col_w * lean + font : font + 6;
  const double y_label_w = options.y_label.empty() ? 0 : 22;
  const double x_label_h = options.x_label.empty() ? 0 : 20;
  const double grid_x = 10 + y_label_w + row_w + 8;
  const double grid_y = (options.title.empty() ? 10 : 36) + x_label_h + col_band;
  const double grid_w = cell * cols, grid_h = cell * rows;
  const double bar_x = grid_x + grid_w + 18, bar_w = 14;
  const double bar_h = std::max(grid_h, 120.0);

  // Colour-bar ticks: multiples of a nice step inside [low, high].
  const double step = nice_step(high - low, 4);
  std::vector<double> bar_ticks;
  for (double k = std::ceil(low / step - 1e-9); k * step <= high + step * 1e-9; ++k)
    bar_ticks.push_back(k * step);
  std::vector<std::string> bar_labels;
  for (double t : bar_ticks) bar_labels.push_back(tick_label(t, step));

  double width = bar_x + bar_w + 8 + widest(bar_labels, 11) + 10;
  if (rotate && !upright) width = std::max(width, grid_x + grid_w - cell / 2 + col_w * lean + font + 10);
  const double height = grid_y + std::max(grid_h, bar_h) + 12;
  const auto colour = [&](double v) {
    return std::isfinite(v) ? hex(detail::viridis((v - low) / (high - low))) : std::string("#bbbbbb");
  };

  std::string body;
  if (!options.x_label.empty())
    add(body, {"<text x=\"", grid_x + grid_w / 2, "\" y=\"", grid_y - col_band - 6,
               "\" text-anchor=\"middle\" font-style=\"italic\">", escape(options.x_label), "</text>\n"});
  if (!options.y_label.empty())
    add(body, {"<text transform=\"translate(", 10 + 12, " ", grid_y + grid_h / 2,
               ") rotate(-90)\" text-anchor=\"middle\" font-style=\"italic\">", escape(options.y_label),
               "</text>\n"});

  add(body, {"<g class=\"row-labels\" font-size=\"", font, "\" text-anchor=\"end\">\n"});
  for (int64_t i = 0; i < rows; ++i)
    add(body, {"<text x=\"", grid_x - 5, "\" y=\"", grid_y + (i + 0.5) * cell, "\" dy=\"0.35em\">",
               escape(row_shown[i]), "</text>\n"});
  body += "</g>\n";
  add(body, {"<g class=\"col-labels\" font-size=\"", font, "\" text-anchor=\"", rotate ? "start" : "middle",
             "\">\n"});
  for (int64_t j = 0; j < cols; ++j) {
    const double x = grid_x + (j + 0.5) * cell + (upright ? font * 0.35 : 0), y = grid_y - 5;
    if (rotate)
      add(body, {"<text x=\"", x, "\" y=\"", y, "\" transform=\"rotate(", upright ? "-90 " : "-45 ", x, " ",
                 y, ")\">", escape(col_shown[j]), "</text>\n"});
    else
      add(body, {"<text x=\"", x, "\" y=\"", y, "\">", escape(col_shown[j]), "</text>\n"});
  }
  body += "</g>\n";

  // The cells, in cell units: the group scales them to `cell` pixels.
  add(body, {"<g class=\"cells\" data-rows=\"", rows, "\" data-cols=\"", cols, "\" transform=\"translate(",
             grid_x, " ", grid_y, ") scale(", cell, ")\" shape-rendering=\"crispEdges\">\n"});
  for (int64_t i = 0; i < rows; ++i) {
    add(body, {"<g transform=\"translate(0 ", i, ")\">"});
    // ("->": a '>' in text needs no escape, and 1600 cells make the bytes count)
    for (int64_t j = 0; j < cols; ++j) {
      const double v = values[i * cols + j];
      add(body,
          {"<rect x=\"", j, "\" width=\"1\" height=\"1\" fill=\"", colour(v), "\"><title>",
           escape(row_labels[i]), " -> ", escape(col_labels[j]), ": ", cell_label(v), "</title></rect>"});
    }
    body += "</g>\n";
  }
  body += "</g>\n";
  add(body, {"<rect x=\"", grid_x, "\" y=\"", grid_y, "\" width=\"", grid_w, "\" height=\"", grid_h,
             "\" fill=\"none\" stroke=\"#888888\"/>\n"});

  // Values written in the cells when they are big enough to hold them.
  if (cell >= 28) {
    const double value_font = std::floor(cell * 0.3);
    add(body, {"<g class=\"values\" font-size=\"", value_font,
               "\" text-anchor=\"middle\" pointer-events=\"none\">\n"});
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const double v = values[i * cols + j];
        char text[16];
        std::snprintf(text, sizeof text, "%.2f", v);
        const detail::Rgb c = detail::viridis((v - low) / (high - low));
        const bool dark = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b < 0.45;
        add(body, {"<text x=\"", grid_x + (j + 0.5) * cell, "\" y=\"", grid_y + (i + 0.5) * cell,
                   "\" dy=\"0.35em\"", dark ? " fill=\"white\"" : "", ">", std::isfinite(v) ? text : "nan",
                   "</text>\n"});
      }
    body += "</g>\n";
  }

  // The colour bar: low at the bottom, high at the top.
  body += "<defs><linearGradient id=\"ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int k = 0; k <= 10; ++k)
    add(body, {"<stop offset=\"", k / 10.0, "\" stop-color=\"", hex(detail::viridis(k / 10.0)), "\"/>"});
  body += "</linearGradient></defs>\n<g class=\"colour-bar\">\n";
  add(body, {"<rect x=\"", bar_x, "\" y=\"", grid_y, "\" width=\"", bar_w, "\" height=\"", bar_h,
             "\" fill=\"url(#ramp)\" stroke=\"#888888\"/>\n"});
  for (size_t k = 0; k < bar_ticks.size(); ++k) {
    const double y = grid_y + (1 - (bar_ticks[k] - low) / (high - low)) * bar_h;
    add(body, {"<line x1=\"", bar_x + bar_w, "\" x2=\"", bar_x + bar_w + 4, "\" y1=\"", y, "\" y2=\"", y,
               "\" stroke=\"black\"/>\n"});
    add(body, {"<text x=\"", bar_x + bar_w + 7, "\" y=\"", y, "\" dy=\"0.35em\" font-size=\"11\">",
               escape(bar_labels[k]), "</text>\n"});
  }
  body += "</g>\n";
  write_atomically(path, document(width, height, options.title, "heatmap", body), op);
}

// ------------------------------------------------------------------ line plot

void write_line_plot_svg(const std::string& path, const std::vector<Series>& series,
                         const LinePlotOptions& options) {
  constexpr const char* op = "write_line_plot_svg";
  HEED_CHECK(!series.empty(), op, ": '", path, "': no series to plot");
  const auto name_of = [&](size_t s) {
    return series[s].name.empty() ? "series " + std::to_string(s + 1) : series[s].name;
  };
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (size_t s = 0; s < series.size(); ++s) {
    const Series& line = series[s];
    HEED_CHECK(line.x.size() == line.y.size(), op, ": '", path, "': series '", name_of(s), "' has ",
               line.x.size(), " x values and ", line.y.size(), " y values");
    for (size_t i = 0; i < line.x.size(); ++i) {
      const double x = line.x[i], y = line.y[i];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;  // a gap in the line (a diverged loss)
      HEED_CHECK(!options.log_x || x > 0, op, ": '", path, "': series '", name_of(s), "' has x = ", x,
                 " at point ", i, ", which a log x axis cannot show (plot it on a linear axis)");
      HEED_CHECK(!options.log_y || y > 0, op, ": '", path, "': series '", name_of(s), "' has y = ", y,
                 " at point ", i, ", which a log y axis cannot show (plot it on a linear axis)");
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  HEED_CHECK(x_lo <= x_hi, op, ": '", path, "': no finite points to plot");

  Frame f;
  f.x = options.log_x ? log_axis(x_lo, x_hi) : linear_axis(x_lo, x_hi, 6);
  f.y = options.log_y ? log_axis(y_lo, y_hi) : linear_axis(y_lo, y_hi, 5);
  std::vector<std::string> names;
  for (size_t s = 0; s < series.size(); ++s) names.push_back(shorten(name_of(s), 32));
  f.left = 12 + (options.y_label.empty() ? 0 : 20) + widest(f.y.labels, 11) + 10;
  f.top = options.title.empty() ? 16 : 40;
  f.width = 480;
  f.height = 300;
  const double legend_x = f.right() + 16;
  const double width = legend_x + 30 + widest(names, 12) + 12;
  const double height =
      std::max(f.bottom() + (options.x_label.empty() ? 28 : 48), f.top + 20.0 * names.size() + 10);

  std::string body;
  draw_y_axis(body, f, options.y_label);
  draw_x_axis(body, f, options.x_label);
  for (size_t s = 0; s < series.size(); ++s) {
    const Series& line = series[s];
    const char* colour = series_colour(s);
    const char* dash =
        s >= 10 ? " stroke-dasharray=\"6 3\"" : "";  // past ten colours, dashes tell them apart
    const bool markers = line.x.size() <= 40;
    add(body, {"<g class=\"series\" stroke=\"", colour, "\" fill=\"", colour, "\"><title>",
               escape(name_of(s)), "</title>\n"});
    // Runs of finite points become polylines; a run of one is a dot.
    std::string points;
    size_t run = 0;
    double last_x = 0, last_y = 0;
    const auto flush = [&] {
      if (run > 1)
        add(body, {"<polyline fill=\"none\" stroke-width=\"2\"", dash, " points=\"", points, "\"/>\n"});
      if (run == 1 && !markers) add(body, {"<circle cx=\"", last_x, "\" cy=\"", last_y, "\" r=\"2.5\"/>\n"});
      points.clear();
      run = 0;
    };
    for (size_t i = 0; i < line.x.size(); ++i) {
      if (!std::isfinite(line.x[i]) || !std::isfinite(line.y[i])) {
        flush();
        continue;
      }
      last_x = f.px(line.x[i]), last_y = f.py(line.y[i]);
      add(points, {run ? " " : "", last_x, ",", last_y});
      ++run;
    }
    flush();
    if (markers)
      for (size_t i = 0; i < line.x.size(); ++i)
        if (std::isfinite(line.x[i]) && std::isfinite(line.y[i]))
          add(body, {"<circle cx=\"", f.px(line.x[i]), "\" cy=\"", f.py(line.y[i]), "\" r=\"2.5\"/>\n"});
    body += "</g>\n";
  }
  body += "<g class=\"legend\">\n";
  for (size_t s = 0; s < names.size(); ++s) {
    const double y = f.top + 10 + 20.0 * s;
    add(body,
        {"<line x1=\"", legend_x, "\" x2=\"", legend_x + 22, "\" y1=\"", y, "\" y2=\"", y, "\" stroke=\"",
         series_colour(s), "\" stroke-width=\"2\"", s >= 10 ? " stroke-dasharray=\"6 3\"" : "", "/>\n"});
    add(body,
        {"<text x=\"", legend_x + 28, "\" y=\"", y, "\" dy=\"0.35em\">", escape(names[s]), "</text>\n"});
  }
  body += "</g>\n";
  write_atomically(path, document(width, height, options.title, "line plot", body), op);
}

// ------------------------------------------------------------------ bar chart

void write_bar_chart_svg(const std::string& path, const std::vector<Bar>& bars,
                         const BarChartOptions& options) {
  constexpr const char* op = "write_bar_chart_svg";
  HEED_CHECK(!bars.empty(), op, ": '", path, "': no bars to draw");
  const bool has_reference = options.reference != 0;
  double lo = has_reference ? options.reference : bars[0].value, hi = lo;
  for (const Bar& bar : bars) {
    HEED_CHECK(std::isfinite(bar.value), op, ": '", path, "': bar '", bar.label, "' has the value ",
               bar.value);
    HEED_CHECK(!options.log_y || bar.value > 0, op, ": '", path, "': bar '", bar.label, "' has the value ",
               bar.value, ", which a log y axis cannot show (use a linear axis)");
    lo = std::min(lo, bar.value), hi = std::max(hi, bar.value);
  }
  HEED_CHECK(!options.log_y || !has_reference || options.reference > 0, op, ": '", path, "': the reference ",
             options.reference, " cannot be shown on a log y axis");

  Frame f;
  // Room beyond the longest bars for their values.
  if (options.log_y) {
    f.y = log_axis(lo, hi * 1.3);
  } else {
    const double top = std::max(hi, 0.0), bottom = std::min(lo, 0.0), pad = 0.08 * (top - bottom);
    f.y = linear_axis(bottom < 0 ? bottom - pad : 0, top > 0 ? top + pad : 0, 5);
  }
  std::vector<std::string> labels;
  for (const Bar& bar : bars) labels.push_back(shorten(bar.label, 24));
  const double slot = std::clamp(std::floor(520.0 / bars.size()), 22.0, 90.0);
  const double label_w = widest(labels, 11);
  const bool rotate = label_w > slot - 4;
  const std::string reference_text =
      options.reference_label.empty() ? value_label(options.reference) : options.reference_label;
  f.left = 12 + (options.y_label.empty() ? 0 : 20) + widest(f.y.labels, 11) + 10;
  f.top = options.title.empty() ? 16 : 40;
  f.width = slot * bars.size();
  f.height = 300;
  const double width = f.right() + (has_reference ? 8 + text_width(reference_text, 11) : 0) + 16;
  const double height = f.bottom() + (rotate ? label_w * 0.574 + 22 : 26);
  const double base = options.log_y ? f.y.lo : 0;

  std::string body;
  draw_y_axis(body, f, options.y_label);
  add(body, {"<line x1=\"", f.left, "\" x2=\"", f.right(), "\" y1=\"", f.py(base), "\" y2=\"", f.py(base),
             "\" stroke=\"black\"/>\n"});
  body += "<g class=\"bars\">\n";
  for (size_t i = 0; i < bars.size(); ++i) {
    const double centre = f.left + (i + 0.5) * slot, v = bars[i].value;
    const double top = std::min(f.py(v), f.py(base)), h = std::abs(f.py(v) - f.py(base));
    add(body,
        {"<rect x=\"", centre - slot * 0.35, "\" y=\"", top, "\" width=\"", slot * 0.7, "\" height=\"", h,
         "\" fill=\"#4c72b0\"><title>", escape(bars[i].label), ": ", value_label(v), "</title></rect>\n"});
    const double value_y = v >= base ? top - 4 : top + h + 12;
    add(body, {"<text x=\"", centre, "\" y=\"", value_y, "\" text-anchor=\"middle\" font-size=\"10\">",
               value_label(v), "</text>\n"});
    const double label_y = f.bottom() + 15;
    if (rotate)
      add(body, {"<text x=\"", centre, "\" y=\"", label_y,
                 "\" text-anchor=\"end\" font-size=\"11\" transform=\"rotate(-35 ", centre, " ", label_y - 4,
                 ")\">", escape(labels[i]), "</text>\n"});
    else
      add(body, {"<text x=\"", centre, "\" y=\"", label_y, "\" text-anchor=\"middle\" font-size=\"11\">",
                 escape(labels[i]), "</text>\n"});
  }
  body += "</g>\n";
  if (has_reference) {
    const double y = f.py(options.reference);
    add(body,
        {"<g class=\"reference\" stroke=\"#c44e52\">\n<line x1=\"", f.left, "\" x2=\"", f.right(), "\" y1=\"",
         y, "\" y2=\"", y, "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n<text x=\"", f.right() + 6,
         "\" y=\"", y, "\" dy=\"0.35em\" font-size=\"11\" stroke=\"none\" fill=\"#c44e52\">",
         escape(reference_text), "</text>\n</g>\n"});
  }
  write_atomically(path, document(width, height, options.title, "bar chart", body), op);
}

}  // namespace heed::course
