#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

#include "tensor/error.h"
#include "tensor/threads.h"

namespace heed::course {
namespace {

struct Figure {
  std::string path, caption;
};

// The figures written so far, for the summary at the end and the index.
std::vector<Figure>& figures_written() {
  static std::vector<Figure> figures;
  return figures;
}

constexpr const char* kValidFlags = "--quick, --seed N, --threads N, --out DIR, --help";

std::string two_digits(int n) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d", n);
  return buffer;
}

[[noreturn]] void bad_flag(const LessonInfo& info, const std::string& message) {
  std::fprintf(stderr, "lesson %s: %s (valid flags: %s)\n", two_digits(info.number).c_str(), message.c_str(),
               kValidFlags);
  std::exit(2);
}

// A whole number in [low, high], or a bad-flag exit naming the flag.
int64_t parse_number(const LessonInfo& info, std::string_view flag, const char* text, int64_t low,
                     int64_t high) {
  if (text == nullptr) bad_flag(info, std::string(flag) + " needs a value");
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || value < low || value > high)
    bad_flag(info, std::string(flag) + " takes a whole number from " + std::to_string(low) + " to " +
                       std::to_string(high) + ", not '" + text + "'");
  return value;
}

}  // namespace

Lesson::Lesson(LessonInfo info, Flags flags) : info_(std::move(info)), flags_(std::move(flags)) {}

std::string Lesson::tag() const { return two_digits(info_.number); }

void Lesson::section(int number, const std::string& title) const {
  std::printf("\n== %d. %s\n\n", number, title.c_str());
  std::fflush(stdout);
}

std::string Lesson::figure(const std::string& name, const std::string& caption) const {
  std::error_code error;
  std::filesystem::create_directories(flags_.out, error);
  HEED_CHECK(!error, "lesson ", tag(), ": cannot make the figures folder '", flags_.out,
             "': ", error.message(), " (choose another with --out DIR)");
  std::string path = (std::filesystem::path(flags_.out) / (tag() + "_" + name + ".svg")).string();
  figures_written().push_back({path, caption});
  return path;
}

Flags parse_flags(int argc, char** argv, const LessonInfo& info) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "lesson %s: %s (lessons/%s_%s/lesson.cpp)\n\n"
          "  --quick       a short run: small data, few steps (what `make run` and the tests use)\n"
          "  --seed N      the seed of every random choice (default 0)\n"
          "  --threads N   threads for heed's kernels (default: HEED_THREADS, else one per core)\n"
          "  --out DIR     where the SVG figures go (default: figures)\n"
          "  --help        this text\n",
          two_digits(info.number).c_str(), info.title.c_str(), two_digits(info.number).c_str(),
          info.topic.c_str());
      std::exit(0);
    } else if (arg == "--quick") {
      flags.quick = true;
    } else if (arg == "--seed") {
      flags.seed = uint64_t(parse_number(info, arg, value, 0, int64_t(1) << 62));
      ++i;
    } else if (arg == "--threads") {
      flags.threads = int(parse_number(info, arg, value, 1, 256));
      ++i;
    } else if (arg == "--out") {
      if (value == nullptr || *value == '\0') bad_flag(info, "--out needs a folder");
      flags.out = value;
      ++i;
    } else {
      bad_flag(info, "unknown flag '" + std::string(arg) + "'");
    }
  }
  return flags;
}

namespace {

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Writes `text` to `path` through a temporary file and a rename. The
// temporary is the lesson's own (`tag`): lessons run side by side (ctest -j)
// rewrite one index.html, and each rename replaces it whole.
void write_whole(const std::filesystem::path& path, const std::string& text, const std::string& tag) {
  const std::filesystem::path temporary = path.string() + "." + tag + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    HEED_CHECK(out.good(), "cannot write ", temporary.string(), " (choose another folder with --out DIR)");
  }
  std::filesystem::rename(temporary, path);
}

// This lesson's figures as NN_figures.tsv (its title, then a file and caption
// per line), and index.html rebuilt from every lesson's .tsv in the folder: a
// page with no script and nothing from elsewhere, so it opens from disk.
void write_index(const Lesson& lesson) {
  namespace fs = std::filesystem;
  const fs::path folder = lesson.flags().out;
  std::string tsv = lesson.tag() + "\t" + lesson.info().title + "\n";
  for (const Figure& f : figures_written())
    tsv += fs::path(f.path).filename().string() + "\t" + f.caption + "\n";
  write_whole(folder / (lesson.tag() + "_figures.tsv"), tsv, lesson.tag());

  std::vector<fs::path> lists;
  for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 12 && name.substr(name.size() - 12) == "_figures.tsv") lists.push_back(e.path());
  }
  std::sort(lists.begin(), lists.end());
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>heed: the course's "
      "figures</title>\n"
      "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}"
      "figure{margin:1em 0 2em}img{max-width:100%;border:1px solid #ddd}figcaption{color:#555}</style>\n"
      "</head><body>\n<h1>heed: the course's figures</h1>\n"
      "<p>Each lesson rewrites its own section when it runs (<code>make run</code>, <code>make lesson "
      "N=06</code>).</p>\n";
  for (const fs::path& list : lists) {
    std::ifstream in(list);
    std::string line, number, title;
    if (!std::getline(in, line)) continue;
    const size_t tab = line.find('\t');
    number = line.substr(0, tab);
    title = tab == std::string::npos ? "" : line.substr(tab + 1);
    std::string figures;
    while (std::getline(in, line)) {
      const size_t t = line.find('\t');
      const std::string file = line.substr(0, t), caption = t == std::string::npos ? "" : line.substr(t + 1);
      if (!fs::exists(folder / file)) continue;
      figures += "<figure><img src=\"" + html_escape(file) + "\" alt=\"" + html_escape(file) +
                 "\">\n<figcaption>" + html_escape(file) +
                 (caption.empty() ? "" : ": " + html_escape(caption)) + "</figcaption></figure>\n";
    }
    if (!figures.empty()) html += "<h2>" + html_escape(number + " " + title) + "</h2>\n" + figures;
  }
  html += "</body></html>\n";
  write_whole(folder / "index.html", html, lesson.tag());
}

}  // namespace

int run_lesson(int argc, char** argv, const LessonInfo& info,
               const std::function<void(const Lesson&)>& body) {
  const Flags flags = parse_flags(argc, argv, info);
  const auto start = std::chrono::steady_clock::now();
  try {
    if (flags.threads > 0) set_num_threads(flags.threads);
    Lesson lesson(info, flags);
    std::printf("heed lesson %s: %s%s\n", lesson.tag().c_str(), info.title.c_str(),
                flags.quick ? " (quick)" : "");
    std::fflush(stdout);
    body(lesson);
    std::error_code error;
    std::filesystem::create_directories(flags.out, error);
    if (!error) write_index(lesson);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lesson %s: %s\n", two_digits(info.number).c_str(), e.what());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nlesson %s done in %.1f s", two_digits(info.number).c_str(), seconds);
  if (!figures_written().empty()) {
    std::printf("; figures (open %s/index.html in a browser):\n", flags.out.c_str());
    for (const Figure& f : figures_written()) std::printf("  %s\n", f.path.c_str());
  } else {
    std::printf("\n");
  }
  return 0;
}

}  // namespace heed::course
