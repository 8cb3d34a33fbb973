// The course's pictures (SVG figures, the terminal heatmap) and its progress
// bar: structure, escaping, errors, and that nothing is left half-written.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "tensor/error.h"
#include "tensor/tensor.h"

using namespace heed;
using namespace heed::course;
namespace fs = std::filesystem;

namespace {

// A folder of its own for one test case, removed at the end.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("heed_common_plots_" + std::to_string(getpid()) + "_" + name)) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  std::string path(const std::string& file) const { return (dir / file).string(); }
};

std::string read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The text from `open` to the next `close` (a group of the figure).
std::string section(const std::string& text, const std::string& open,
                    const std::string& close = "</g>\n</g>") {
  const size_t from = text.find(open);
  REQUIRE_MESSAGE(from != std::string::npos, "no ", open);
  return text.substr(from, text.find(close, from) - from);
}

void check_svg_document(const std::string& svg, const std::string& title) {
  CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
  CHECK(svg.find("<title>" + title + "</title>") != std::string::npos);
  CHECK(count(svg, "<text") >= 2);
  CHECK(svg.size() > 10);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no heed::Error)";
}

}  // namespace

TEST_CASE("svg: a heatmap has one cell per weight and its token labels") {
  Scratch scratch("heatmap");
  const std::string path = scratch.path("weights.svg");
  Tensor weights =
      Tensor{{0.1f, 0.2f, 0.3f, 0.4f}, {0.734f, 0.0f, 0.266f, 0.0f}, {0.25f, 0.25f, 0.25f, 0.25f}};
  write_heatmap_svg(path, weights,
                    {.title = "attention <of> \"a\" & b",
                     .row_labels = {"<s>", "le", "été"},
                     .col_labels = {"a&b", "\"q\"", "it's", "cat"},
                     .low = 0,
                     .high = 1});
  const std::string svg = read(path);
  check_svg_document(svg, "attention &lt;of&gt; &quot;a&quot; &amp; b");
  const std::string cells = section(svg, "<g class=\"cells\"");
  CHECK(cells.find("data-rows=\"3\" data-cols=\"4\"") != std::string::npos);
  CHECK(count(cells, "<rect ") == 12);
  CHECK(count(cells, "<title>") == 12);
  // Hover text: row -> column: value, every label escaped.
  CHECK(cells.find("<title>le -> a&amp;b: 0.734</title>") != std::string::npos);
  CHECK(cells.find("<title>&lt;s&gt; -> cat: 0.400</title>") != std::string::npos);
  CHECK(cells.find("<title>été -> it&apos;s: 0.250</title>") != std::string::npos);
  const std::string rows = section(svg, "<g class=\"row-labels\"", "</g>");
  const std::string cols = section(svg, "<g class=\"col-labels\"", "</g>");
  CHECK(count(rows, "<text") == 3);
  CHECK(count(cols, "<text") == 4);
  CHECK(rows.find(">&lt;s&gt;</text>") != std::string::npos);
  CHECK(cols.find(">&quot;q&quot;</text>") != std::string::npos);
  CHECK(svg.find("<s>") == std::string::npos);  // never a raw token in the markup
  CHECK(svg.find("a&b") == std::string::npos);
  // The colour bar, with ticks from 0 to 1.
  const std::string bar = section(svg, "<g class=\"colour-bar\"", "</g>");
  CHECK(bar.find(">0.0</text>") != std::string::npos);
  CHECK(bar.find(">1.0</text>") != std::string::npos);
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("svg: a heatmap's long column labels lean, and no label bytes break the XML") {
  Scratch scratch("heatmap_labels");
  const std::string path = scratch.path("long.svg");
  write_heatmap_svg(path, full({2, 3}, 0.5f),
                    {.row_labels = {"ok", std::string("bad\x01\xff", 5)},
                     .col_labels = {"a_rather_long_token", "another_long_one", "x"}});
  const std::string svg = read(path);
  check_svg_document(svg, "heatmap");  // no title given: a generic one
  CHECK(svg.find("rotate(-45") != std::string::npos);
  CHECK(svg.find('\x01') == std::string::npos);
  CHECK(svg.find('\xff') == std::string::npos);
  CHECK(svg.find(">bad?"
                 "?</text>") != std::string::npos);  // split: "??<" would read as a trigraph
}

TEST_CASE("svg: a 40 x 40 heatmap stays well under 200 KB") {
  Scratch scratch("heatmap_size");
  const std::string path = scratch.path("big.svg");
  std::vector<std::string> tokens;
  for (int i = 0; i < 40; ++i) tokens.push_back("word" + std::to_string(i));
  write_heatmap_svg(path, full({40, 40}, 1.0f / 40),
                    {.title = "40 tokens", .row_labels = tokens, .col_labels = tokens});
  const std::string svg = read(path);
  CHECK(count(section(svg, "<g class=\"cells\""), "<rect ") == 1600);
  CHECK(svg.size() < 170 * 1024);
}

TEST_CASE("svg: a heatmap refuses labels that do not match its matrix") {
  Scratch scratch("heatmap_bad");
  const std::string path = scratch.path("bad.svg");
  const std::string message = message_of([&] {
    write_heatmap_svg(path, zeros({2, 3}), {.row_labels = {"a"}, .col_labels = {}});
  });
  CHECK(message.find("write_heatmap_svg") != std::string::npos);
  CHECK(message.find("1 row labels") != std::string::npos);
  CHECK(message.find("(2, 3)") != std::string::npos);
  CHECK(message_of([&] { write_heatmap_svg(path, zeros({4}), {}); }).find("2-D") != std::string::npos);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("svg: a line plot has its series, a legend, axis labels and log decades") {
  Scratch scratch("lines");
  const std::string path = scratch.path("time.svg");
  Series naive{.name = "naive <O(T^2)>"}, fused{.name = "fused"};
  for (double t = 16; t <= 4096; t *= 2) {
    naive.x.push_back(t), naive.y.push_back(1e-7 * t * t);
    fused.x.push_back(t), fused.y.push_back(1e-6 * t);
  }
  write_line_plot_svg(path, {naive, fused},
                      {.title = "time against length",
                       .x_label = "length T",
                       .y_label = "seconds",
                       .log_x = true,
                       .log_y = true});
  const std::string svg = read(path);
  check_svg_document(svg, "time against length");
  CHECK(count(svg, "<g class=\"series\"") == 2);
  CHECK(count(svg, "<polyline") == 2);
  const std::string legend = section(svg, "<g class=\"legend\"", "</g>");
  CHECK(legend.find(">naive &lt;O(T^2)&gt;</text>") != std::string::npos);
  CHECK(legend.find(">fused</text>") != std::string::npos);
  CHECK(svg.find(">length T</text>") != std::string::npos);
  CHECK(svg.find(">seconds</text>") != std::string::npos);
  const std::string x_axis = section(svg, "<g class=\"x-axis\"", "</g>");
  for (const char* decade : {">10</text>", ">100</text>", ">1000</text>", ">10000</text>"})
    CHECK_MESSAGE(x_axis.find(decade) != std::string::npos, decade);
  CHECK(svg.find("nan") == std::string::npos);
}

TEST_CASE("svg: a line plot on linear axes has nice ticks and breaks at a NaN") {
  Scratch scratch("lines_linear");
  const std::string path = scratch.path("loss.svg");
  Series loss{.name = "loss", .x = {0, 1, 2, 3, 4, 5}, .y = {2.3, 1.7, std::nan(""), 0.9, 0.7, 0.6}};
  write_line_plot_svg(path, {loss}, {.title = "loss", .x_label = "epoch", .y_label = "loss"});
  const std::string svg = read(path);
  check_svg_document(svg, "loss");
  CHECK(count(svg, "<polyline") == 2);  // the NaN splits the line in two
  const std::string y_axis = section(svg, "<g class=\"y-axis\"", "</g>");
  CHECK(y_axis.find(">0.5</text>") != std::string::npos);
  CHECK(y_axis.find(">2.5</text>") != std::string::npos);
}

TEST_CASE("svg: a log axis refuses a non-positive value, naming the series") {
  Scratch scratch("lines_log");
  const std::string path = scratch.path("log.svg");
  const std::vector<Series> series = {{.name = "train", .x = {1, 2}, .y = {1, 0.5}},
                                      {.name = "val loss", .x = {1, 2}, .y = {0.8, 0}}};
  const std::string message = message_of([&] { write_line_plot_svg(path, series, {.log_y = true}); });
  CHECK(message.find("write_line_plot_svg") != std::string::npos);
  CHECK(message.find("'val loss'") != std::string::npos);
  CHECK(message.find("log y") != std::string::npos);
  CHECK(message_of([&] {
          write_line_plot_svg(path, {{.name = "t", .x = {-1}, .y = {1}}}, {.log_x = true});
        }).find("log x") != std::string::npos);
  CHECK(message_of([&] {
          write_line_plot_svg(path, {{.name = "odd", .x = {1, 2}, .y = {1}}}, {});
        }).find("'odd' has 2 x values and 1 y values") != std::string::npos);
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("svg: a bar chart has a bar per value, their labels and the dashed reference") {
  Scratch scratch("bars");
  const std::string path = scratch.path("gflops.svg");
  const std::vector<Bar> bars = {{"naive", 0.8}, {"i-k-j", 3.1}, {"blocked & packed", 48.2}, {"heed", 96.5}};
  for (bool log_y : {false, true}) {
    write_bar_chart_svg(path, bars,
                        {.title = "GFLOP/s",
                         .y_label = "GFLOP/s",
                         .reference = 120,
                         .reference_label = "peak <fma>",
                         .log_y = log_y});
    const std::string svg = read(path);
    check_svg_document(svg, "GFLOP/s");
    const std::string drawn = section(svg, "<g class=\"bars\"", "</g>");
    CHECK(count(drawn, "<rect ") == 4);
    CHECK(drawn.find(">blocked &amp; packed</text>") != std::string::npos);
    CHECK(drawn.find(">96.5</text>") != std::string::npos);
    const std::string reference = section(svg, "<g class=\"reference\"", "</g>");
    CHECK(reference.find("stroke-dasharray") != std::string::npos);
    CHECK(reference.find(">peak &lt;fma&gt;</text>") != std::string::npos);
  }
  const std::string message = message_of([&] {
    write_bar_chart_svg(path + "2", {{"fine", 1}, {"broken", 0}}, {.log_y = true});
  });
  CHECK(message.find("'broken'") != std::string::npos);
  CHECK(message.find("log y") != std::string::npos);
  CHECK_FALSE(fs::exists(path + "2"));
  // Without a reference there is no dashed line.
  write_bar_chart_svg(path, bars, {.title = "plain"});
  CHECK(read(path).find("class=\"reference\"") == std::string::npos);
}

TEST_CASE("svg: a path that cannot be written is a heed::Error naming it, and leaves no file") {
  Scratch scratch("unwritable");
  const std::string missing = scratch.path("no_such_folder/fig.svg");
  const std::string message = message_of([&] { write_bar_chart_svg(missing, {{"a", 1}}, {.title = "t"}); });
  CHECK(message.find("write_bar_chart_svg") != std::string::npos);
  CHECK(message.find(missing) != std::string::npos);
  CHECK(message.find("--out") != std::string::npos);
  CHECK_FALSE(fs::exists(missing));
  CHECK_FALSE(fs::exists(missing + ".tmp"));
  // A folder where the file should go: the rename fails, and the temporary file goes too.
  const std::string folder = scratch.path("a_folder");
  fs::create_directories(folder);
  CHECK(message_of([&] { write_heatmap_svg(folder, zeros({2, 2}), {}); }).find(folder) != std::string::npos);
  CHECK_FALSE(fs::exists(folder + ".tmp"));
  CHECK(fs::is_directory(folder));
}

TEST_CASE("svg: writing over a figure replaces it whole") {
  Scratch scratch("replace");
  const std::string path = scratch.path("fig.svg");
  write_line_plot_svg(path, {{.name = "first", .x = {0, 1}, .y = {0, 1}}}, {.title = "one"});
  write_line_plot_svg(path, {{.name = "second", .x = {0, 1}, .y = {1, 0}}}, {.title = "two"});
  const std::string svg = read(path);
  CHECK(svg.find("<title>two</title>") != std::string::npos);
  CHECK(svg.find("first") == std::string::npos);
  CHECK(count(svg, "</svg>") == 1);
}

namespace {

Tensor diagonal_weights(int64_t n) {
  std::vector<float> values(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) values[i * n + j] = i == j ? 0.9f : (std::abs(i - j) == 1 ? 0.3f : 0.0f);
  return from_vector(values, Shape{n, n});
}

std::vector<std::string> twelve_tokens() {
  return {"le", "chat", "noir", "a", "mangé", "la", "petite", "souris", "grise", "ce", "matin", "<eos>"};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("terminal heatmap: plain shades with the tokens as labels, and no escapes") {
  std::ostringstream out;
  print_heatmap(out, diagonal_weights(12),
                {.title = "self-attention",
                 .row_labels = twelve_tokens(),
                 .col_labels = twelve_tokens(),
                 .colour = TerminalHeatmapOptions::Colour::never});
  const std::string text = out.str();
  CHECK(text.find('\033') == std::string::npos);
  CHECK(text.find("\u2588\u2588") != std::string::npos);          // 0.9: full
  CHECK(text.find("\u2591\u2591") != std::string::npos);          // 0.3: light
  CHECK(text.find("[\u2588\u2588] 0.8-1") != std::string::npos);  // the legend
  const std::vector<std::string> lines = lines_of(text);
  // The title, "souris" and "mangé" written downwards (6 lines), 12 rows, the legend.
  REQUIRE(lines.size() == 1 + 6 + 12 + 1);
  CHECK(lines[0] == "self-attention");
  for (size_t i = 0; i < 12; ++i) {
    const std::string& row = lines[7 + i];
    CHECK_MESSAGE(row.find(twelve_tokens()[i] + "  \u2502") != std::string::npos, row);
    CHECK(row.find("\u2502", row.find("\u2502") + 1) != std::string::npos);  // closed on the right
  }
  // Column labels run downwards: the first column's letters start each line.
  CHECK(lines[1].find("l c n a m l p s g c m <") != std::string::npos);
  CHECK(lines[2].find("e h o") != std::string::npos);
  CHECK(lines[5].find("é") != std::string::npos);  // mangé's fifth letter, whole
}

TEST_CASE("terminal heatmap: Colour::always paints 256-colour backgrounds") {
  std::ostringstream out;
  print_heatmap(out, diagonal_weights(4), {.colour = TerminalHeatmapOptions::Colour::always});
  const std::string text = out.str();
  CHECK(text.find("\033[48;5;") != std::string::npos);
  CHECK(count(text, "\033[0m") >= 4);  // each row ends back in the terminal's colours
  // automatic: a stream that is not std::cout never gets escapes.
  std::ostringstream plain;
  print_heatmap(plain, diagonal_weights(4), {});
  CHECK(plain.str().find('\033') == std::string::npos);
}

TEST_CASE("terminal heatmap: short labels sit on one line, values are clipped to the range") {
  std::ostringstream out;
  print_heatmap(
      out, Tensor{{-1.0f, 2.0f}, {0.5f, 0.1f}},
      {.row_labels = {"a", "b"}, .col_labels = {"x", "y"}, .colour = TerminalHeatmapOptions::Colour::never});
  const std::vector<std::string> lines = lines_of(out.str());
  REQUIRE(lines.size() == 1 + 2 + 1);
  CHECK(lines[0] == "    x y");
  // Two characters would touch their neighbours ("1011"): downwards instead.
  std::ostringstream two;
  print_heatmap(
      two, zeros({1, 2}),
      {.row_labels = {"a"}, .col_labels = {"10", "11"}, .colour = TerminalHeatmapOptions::Colour::never});
  CHECK(lines_of(two.str())[0] == "    1 1");
  CHECK(lines_of(two.str())[1] == "    0 1");
  CHECK(lines[1] == "a  \u2502  \u2588\u2588\u2502");
  CHECK(lines[2] == "b  \u2502\u2592\u2592  \u2502");
  CHECK(message_of([] {
          print_heatmap(std::cout, zeros({2, 2}), {.col_labels = {"x"}});
        }).find("1 column labels") != std::string::npos);
}

TEST_CASE("progress: off a terminal, one plain line per epoch and the total time") {
  std::ostringstream out;
  {
    Progress progress({.label = "training", .epochs = 3, .steps_per_epoch = 4, .out = &out});
    for (int epoch = 0; epoch < 3; ++epoch) {
      for (int step = 0; step < 4; ++step) progress.step(epoch + 0.25 * step, 100);
      progress.end_epoch(epoch == 2 ? "val acc 97.3%" : "");
    }
  }  // the destructor calls finish()
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  const std::vector<std::string> lines = lines_of(text);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("training  epoch 1/3: loss 0.3750 (mean), ", 0) == 0);
  CHECK(lines[1].rfind("training  epoch 2/3: loss 1.3750 (mean), ", 0) == 0);
  CHECK(lines[2].find("; val acc 97.3%") != std::string::npos);
  CHECK(lines[2].find(" s; ") != std::string::npos);
  CHECK(lines[3].rfind("training  done: 3 epochs, 12 steps in ", 0) == 0);
}

TEST_CASE("progress: no tokens, no steps and no time never divide by zero") {
  std::ostringstream out;
  Progress progress({.epochs = 0, .steps_per_epoch = 0, .out = &out});
  progress.end_epoch();
  progress.step(0.5, 0);
  progress.finish();
  progress.finish();  // twice is once
  const std::string text = out.str();
  CHECK(text.find("nan") == std::string::npos);
  CHECK(text.find("inf") == std::string::npos);
  CHECK(text.find("tok/s") == std::string::npos);
  CHECK(lines_of(text).size() == 3);  // the empty epoch, the open one, the total
  CHECK(text.find("epoch 1/0: no steps") != std::string::npos);
  CHECK(text.find("epoch 2/0: loss 0.5000 (mean)") != std::string::npos);
}

TEST_CASE("progress: on a terminal, one line redrawn in place, kept at each epoch's end") {
  std::ostringstream out;
  Progress progress({.label = "training",
                     .epochs = 2,
                     .steps_per_epoch = 4,
                     .out = &out,
                     .display = ProgressOptions::Display::redraw});
  for (int step = 0; step < 4; ++step) progress.step(1.0, 50);
  progress.end_epoch("val acc 50%");
  const std::string text = out.str();
  CHECK(text[0] == '\r');
  CHECK(text.find("training  epoch 1/2  [##") != std::string::npos);  // the first step draws
  CHECK(text.find("step 4/4") != std::string::npos);                  // and the last
  CHECK(text.find("ETA ") != std::string::npos);
  CHECK(text.find("loss 1.0000 (mean)") != std::string::npos);
  CHECK(text.find("val acc 50%\n") != std::string::npos);
  CHECK(count(text, "\n") == 1);  // the redraws share one line
}
