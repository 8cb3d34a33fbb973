// Printing, exactly as PyTorch prints a float32 tensor (torch/_tensor_str.py
// with the default options: precision 4, threshold 1000, edgeitems 3,
// linewidth 80):
//
//   tensor([[1.0000, 2.5000],        all whole numbers:  tensor([1., 2.])
//           [3.0000, 4.0000]])       wide range:         tensor([1.0000e-05, 1.0000e+00])
//
// One format for the whole tensor, chosen from its non-zero finite values:
// whole numbers print as "1."; scientific when max/min > 1000, max > 1e8, or
// (for non-whole values) min < 1e-4. Every element is right-aligned to the
// widest. Above 1000 elements only the first and last 3 along each dim print,
// with "..." between, and only those choose the format.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <vector>

#include "tensor/tensor.h"

namespace heed {
namespace {

constexpr int kEdge = 3;
constexpr int64_t kThreshold = 1000;
constexpr int kLineWidth = 80;

struct Format {
  bool whole = true, sci = false;
  size_t width = 1;

  std::string bare(float value) const {
    if (std::isnan(value)) return "nan";  // printf may say "-nan"
    char buf[64];
    std::snprintf(buf, sizeof buf, sci ? "%.4e" : whole ? "%.0f" : "%.4f", double(value));
    std::string s = buf;
    if (whole && !sci && std::isfinite(value)) s += '.';
    return s;
  }
  std::string operator()(float value) const {
    std::string s = bare(value);
    return std::string(width > s.size() ? width - s.size() : 0, ' ') + s;
  }
};

Format choose_format(const std::vector<float>& values) {
  Format f;
  double lo = INFINITY, hi = 0.0;
  for (float v : values) {
    if (!std::isfinite(v) || v == 0.0f) continue;
    lo = std::min(lo, std::fabs(double(v)));
    hi = std::max(hi, std::fabs(double(v)));
    f.whole = f.whole && v == std::ceil(v);
  }
  if (hi == 0.0) return f;  // only zeros and non-finite values: "0.", "nan", "inf"
  f.sci = hi / lo > 1000.0 || hi > 1e8 || (!f.whole && lo < 1e-4);
  for (float v : values)
    if (std::isfinite(v) && v != 0.0f) f.width = std::max(f.width, f.bare(v).size());
  return f;
}

// The indices of dim 0 that print: all, or the first and last kEdge.
std::vector<int64_t> shown(int64_t n, bool summarize) {
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) i = n - kEdge;
    idx.push_back(i);
  }
  return idx;
}

void collect(const Tensor& t, bool summarize, std::vector<float>& out) {
  if (t.dim() == 0) return out.push_back(*t.data());
  for (int64_t i : shown(t.size(0), summarize)) collect(select(t, 0, i), summarize, out);
}

// `indent` is the column of t's opening bracket.
std::string body(const Tensor& t, int indent, bool summarize, const Format& f) {
  if (t.dim() == 0) return f(*t.data());
  std::vector<std::string> parts;
  int64_t prev = -1;
  for (int64_t i : shown(t.size(0), summarize)) {
    if (i != prev + 1) parts.push_back(t.dim() == 1 ? " ..." : "...");
    parts.push_back(body(select(t, 0, i), indent + 1, summarize, f));
    prev = i;
  }
  std::string pad(indent + 1, ' '), out = "[";
  if (t.dim() == 1) {  // wrapped to the line width
    size_t per_line = std::max<size_t>(1, (kLineWidth - indent) / (f.width + 2));
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += i % per_line == 0 ? ",\n" : ", ";
      if (i > 0 && i % per_line == 0) out += pad;
      out += parts[i];
    }
  } else {  // a blank line between matrices, two between 3-D blocks, ...
    std::string sep(t.dim() - 1, '\n');
    sep.insert(0, 1, ',');
    sep += pad;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += sep;
      out += parts[i];
    }
  }
  return out + "]";
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  if (t.numel() == 0) return t.dim() == 1 ? "tensor([])" : "tensor([], size=" + to_string(t.shape()) + ")";
  bool summarize = t.numel() > kThreshold;
  std::vector<float> values;
  collect(t, summarize, values);
  return "tensor(" + body(t, 7, summarize, choose_format(values)) + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << to_string(t); }

}  // namespace heed
