#include "nn/io/json.h"

#include <cstdio>

#include "tensor/error.h"

namespace heed::nn::json {

// ------------------------------------------------------------- Value

const char* Value::type_name() const {
  static const char* const names[] = {"null", "boolean", "integer", "string", "array", "object"};
  return names[v_.index()];
}

template <size_t I, class Variant>
const auto& get_checked(const Variant& v, const char* expected, const char* found) {
  HEED_CHECK(v.index() == I, "json: expected ", expected, ", found ", found);
  return std::get<I>(v);
}

bool Value::as_bool() const { return get_checked<1>(v_, "a boolean", type_name()); }
int64_t Value::as_int() const { return get_checked<2>(v_, "an integer", type_name()); }
const std::string& Value::as_string() const { return get_checked<3>(v_, "a string", type_name()); }
const Value::Array& Value::as_array() const { return get_checked<4>(v_, "an array", type_name()); }
const Value::Object& Value::as_object() const { return get_checked<5>(v_, "an object", type_name()); }

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_))
    if (k == key) return &v;
  return nullptr;
}

// ------------------------------------------------------------- reader

namespace {

// A recursive-descent reader over the bytes of `text`. Recursion is bounded by
// kMaxDepth; every read checks the end first, so no byte outside `text` is seen.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Value document() {
    skip_space();
    Value v = value(0);
    skip_space();
    if (i_ != s_.size()) fail("unexpected characters after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(heed::detail::concat("json: ", what, " at byte ", i_));
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  void expect(char c) {
    if (at_end() || s_[i_] != c) fail(heed::detail::concat("expected '", c, "'"));
    ++i_;
  }
  void skip_space() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }

  Value value(int depth) {
    if (depth >= kMaxDepth) fail(heed::detail::concat("nesting deeper than ", kMaxDepth, " levels"));
    if (at_end()) fail("unexpected end of input");
    switch (s_[i_]) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"':
        return Value(string());
      case 't':
        literal("true");
        return Value(true);
      case 'f':
        literal("false");
        return Value(false);
      case 'n':
        literal("null");
        return Value();
      default:
        return Value(integer());
    }
  }

  Value object(int depth) {
    expect('{');
    Value::Object members;
    skip_space();
    if (peek() == '}') return ++i_, Value(std::move(members));
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      std::string key = string();
      for (const auto& member : members)
        if (member.first == key) fail("duplicate key \"" + key + "\"");
      skip_space();
      expect(':');
      skip_space();
      members.emplace_back(std::move(key), value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return Value(std::move(members));
    }
  }

  Value array(int depth) {
    expect('[');
    Value::Array items;
    skip_space();
    if (peek() == ']') return ++i_, Value(std::move(items));
    while (true) {
      skip_space();
      items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return Value(std::move(items));
    }
  }

  void literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) fail("invalid literal");
    i_ += word.size();
  }

  // -?(0|[1-9][0-9]*), magnitude at most 2^53; fractions and exponents are refused.
  int64_t integer() {
    bool negative = peek() == '-';
    if (negative) ++i_;
    if (at_end() || s_[i_] < '0' || s_[i_] > '9') fail("expected a value");
    if (s_[i_] == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9')
      fail("a number may not have leading zeros");
    int64_t magnitude = 0;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9') {
      magnitude = magnitude * 10 + (s_[i_] - '0');  // <= 2^53 * 10 + 9: no overflow
      if (magnitude > kMaxInteger) fail("integer beyond 2^53");
      ++i_;
    }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') fail("only integers are supported");
    return negative ? -magnitude : magnitude;
  }

  unsigned hex4() {
    if (s_.size() - i_ < 4) fail("truncated \\u escape");
    unsigned code = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) fail("invalid hex digit in \\u escape");
      code = code * 16 + unsigned(digit);
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  // One UTF-8 sequence copied as is, after checking it is well formed
  // (shortest form, no surrogates, at most U+10FFFF).
  void utf8_sequence(std::string& out) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s_[i_ + k]); };
    unsigned b0 = byte(0);
    size_t n = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (n == 0 || b0 > 0xF4 || s_.size() - i_ < n) fail("invalid UTF-8");
    unsigned cp = b0 & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      if ((byte(k) & 0xC0) != 0x80) fail("invalid UTF-8");
      cp = (cp << 6) | (byte(k) & 0x3F);
    }
    static const unsigned smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid UTF-8");
    out.append(s_.substr(i_, n));
    i_ += n;
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, out;
      if (c < 0x20) fail("control character in string");
      if (c >= 0x80) {
        utf8_sequence(out);
        continue;
      }
      ++i_;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (at_end()) fail("unterminated string");
      switch (s_[i_++]) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low half must follow
            if (s_.substr(i_, 2) != "\\u") fail("lone high surrogate in \\u escape");
            i_ += 2;
            unsigned low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("lone high surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --i_;
          fail("invalid escape");
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ------------------------------------------------------------- writer

void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void write(std::string& out, const Value& v) {
  if (v.is_null()) {
    out += "null";
  } else if (v.is_bool()) {
    out += v.as_bool() ? "true" : "false";
  } else if (v.is_int()) {
    out += std::to_string(v.as_int());
  } else if (v.is_string()) {
    write_string(out, v.as_string());
  } else if (v.is_array()) {
    out += '[';
    for (size_t k = 0; k < v.as_array().size(); ++k) {
      if (k) out += ',';
      write(out, v.as_array()[k]);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [key, member] : v.as_object()) {
      if (!first) out += ',';
      first = false;
      write_string(out, key);
      out += ':';
      write(out, member);
    }
    out += '}';
  }
}

}  // namespace

Value parse(std::string_view text) { return Reader(text).document(); }

std::string dump(const Value& value) {
  std::string out;
  write(out, value);
  return out;
}

}  // namespace heed::nn::json
