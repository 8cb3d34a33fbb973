// A minimal JSON value, reader and writer: exactly what a safetensors header
// needs, and no more.
//
// Supported: objects (keys kept in file order), arrays, strings (every escape,
// \uXXXX with surrogate pairs, UTF-8 checked), integers in [-2^53, 2^53] (the
// range a double, and so every JSON library, holds exactly), true/false/null.
// Not supported: numbers with a fraction or an exponent (a safetensors header
// has none), which are rejected like any other malformed input.
//
// The reader is safe on arbitrary bytes: every problem is a heed::Error naming
// the byte offset, and nesting deeper than kMaxDepth is refused, so hostile
// input can neither crash it nor make it recurse without bound.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace heed::nn::json {

// Deep enough for any header (a safetensors header nests 3 levels).
inline constexpr int kMaxDepth = 64;
inline constexpr int64_t kMaxInteger = int64_t{1} << 53;

class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::vector<std::pair<std::string, Value>>;  // in file order, keys unique

  Value() = default;  // null
  Value(bool b) : v_(b) {}
  Value(int64_t i) : v_(i) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  bool is_null() const { return v_.index() == 0; }
  bool is_bool() const { return v_.index() == 1; }
  bool is_int() const { return v_.index() == 2; }
  bool is_string() const { return v_.index() == 3; }
  bool is_array() const { return v_.index() == 4; }
  bool is_object() const { return v_.index() == 5; }

  // Each throws heed::Error when the value holds another type.
  bool as_bool() const;
  int64_t as_int() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  // The member named `key` of an object, or nullptr.
  const Value* find(std::string_view key) const;
  // "object", "array", "string", ...: for error messages.
  const char* type_name() const;

 private:
  std::variant<std::monostate, bool, int64_t, std::string, Array, Object> v_;
};

// Parses one JSON value; surrounding whitespace is allowed, anything else after
// the value is an error. Duplicate keys in an object are an error.
Value parse(std::string_view text);

// Compact JSON with no whitespace, escaped as serde_json does (", \ and control
// characters; other UTF-8 is written as is), so headers match the reference writer.
std::string dump(const Value& value);

}  // namespace heed::nn::json
