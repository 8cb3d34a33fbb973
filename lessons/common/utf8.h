// Token labels are UTF-8 (French has accents: "été"). The pictures lay them
// out by code point (one terminal column each, about 0.6 em in an SVG) and
// must never pass on bytes that break their output: control characters
// (which XML forbids and which move a terminal's cursor) and invalid UTF-8
// become '?'.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace heed::course::detail {

// The code points of `text`, each as its UTF-8 bytes; a control character or a
// byte that does not start a well-formed sequence becomes "?".
inline std::vector<std::string> code_points(const std::string& text) {
  std::vector<std::string> out;
  const auto byte = [&](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u; };
  for (size_t i = 0; i < text.size();) {
    const unsigned c = byte(i);
    size_t length = 0;                 // bytes in this sequence; 0: malformed
    unsigned low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (c >= 0x20 && c < 0x7F) {
      length = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;   // no overlong forms
      if (c == 0xED) high = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    }
    bool ok = length > 0;
    for (size_t k = 1; ok && k < length; ++k) {
      const unsigned b = byte(i + k);
      ok = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xBF);
    }
    if (ok && length == 2 && c == 0xC2 && byte(i + 1) < 0xA0) ok = false;  // C1 controls
    if (ok) {
      out.push_back(text.substr(i, length));
      i += length;
    } else {
      out.push_back("?");
      ++i;
    }
  }
  return out;
}

// `text` cut to at most `max_points` code points, the last one an ellipsis when cut.
inline std::string shorten(const std::string& text, size_t max_points) {
  const std::vector<std::string> points = code_points(text);
  std::string out;
  if (points.size() <= max_points) {
    for (const std::string& p : points) out += p;
    return out;
  }
  for (size_t k = 0; k + 1 < max_points; ++k) out += points[k];
  return out + "\u2026";
}

}  // namespace heed::course::detail
