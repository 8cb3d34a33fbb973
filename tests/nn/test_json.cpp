// The JSON reader and writer behind safetensors headers.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include "nn/io/json.h"
#include "tensor/error.h"

using namespace heed;
namespace json = heed::nn::json;

TEST_CASE("json reads objects, arrays, strings, integers and literals, keeping key order") {
  json::Value v =
      json::parse(R"( { "b" : [1, -2, 0], "a" : {"x": "y"}, "t": true, "f": false, "n": null } )");
  REQUIRE(v.is_object());
  const auto& members = v.as_object();
  REQUIRE(members.size() == 5);
  CHECK(members[0].first == "b");
  CHECK(members[1].first == "a");
  CHECK(v.find("b")->as_array()[1].as_int() == -2);
  CHECK(v.find("a")->find("x")->as_string() == "y");
  CHECK(v.find("t")->as_bool());
  CHECK_FALSE(v.find("f")->as_bool());
  CHECK(v.find("n")->is_null());
  CHECK(v.find("missing") == nullptr);
}

TEST_CASE("json writes compact text that reads back to the same value") {
  std::string text = R"({"b":[1,-2,0],"a":{"x":"y"},"t":true,"n":null,"e":[],"o":{}})";
  CHECK(json::dump(json::parse(text)) == text);
}

TEST_CASE("json integers go up to 2^53, the range every JSON reader holds exactly") {
  CHECK(json::parse("9007199254740992").as_int() == (int64_t{1} << 53));
  CHECK(json::parse("-9007199254740992").as_int() == -(int64_t{1} << 53));
  CHECK_THROWS_AS(json::parse("9007199254740993"), Error);
  CHECK_THROWS_AS(json::parse("123456789012345678901234567890"), Error);
}

TEST_CASE("json string escapes, including \\u and surrogate pairs, decode to UTF-8") {
  CHECK(json::parse(R"("a\"b\\c\/d\b\f\n\r\t")").as_string() == "a\"b\\c/d\b\f\n\r\t");
  CHECK(json::parse(R"("\u0041\u00e9\u20AC")").as_string() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(json::parse(R"("\ud83d\ude00")").as_string() == "\xF0\x9F\x98\x80");  // U+1F600
  CHECK(json::parse("\"caf\xC3\xA9\"").as_string() == "caf\xC3\xA9");         // raw UTF-8 passes
}

TEST_CASE("json writer escapes as serde_json does: quote, backslash and control characters only") {
  CHECK(json::dump(json::Value("a\"b\\c\n\t\x01/\xC3\xA9")) == "\"a\\\"b\\\\c\\n\\t\\u0001/\xC3\xA9\"");
}

TEST_CASE("json rejects malformed input with heed::Error") {
  const char* bad[] = {
      "",
      "{",
      "}",
      "[1,]",
      "[1 2]",
      "{\"a\" 1}",
      "{\"a\":}",
      "{a:1}",
      "{\"a\":1,}",
      "\"abc",
      "\"\\x\"",
      "\"\\u12\"",
      "\"\\uzzzz\"",
      "01",
      "-",
      "1.5",
      "1e3",
      "tru",
      "nul",
      "[1] [2]",
      "{\"a\":1,\"a\":2}",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\"a\x01\"",
      "\"\xFF\"",
      "\"\xC3\"",
      "\"\xC0\xAF\"",
      "\"\xED\xA0\x80\"",
      "\"\xF4\x90\x80\x80\"",
      "+1",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK_THROWS_AS(json::parse(text), Error);
  }
}

TEST_CASE("json error messages say what is wrong and where") {
  CHECK_THROWS_WITH(json::parse("[1, 2"), "json: expected ']' at byte 5");
  CHECK_THROWS_WITH(json::parse("1.5"), "json: only integers are supported at byte 1");
}

TEST_CASE("json refuses nesting deeper than kMaxDepth instead of recursing without bound") {
  std::string deep(100000, '[');
  CHECK_THROWS_WITH_AS(json::parse(deep), doctest::Contains("nesting deeper than 64 levels"), Error);
  std::string ok = std::string(json::kMaxDepth, '[') + std::string(json::kMaxDepth, ']');
  CHECK(json::parse(ok).is_array());
}

TEST_CASE("json asks for the right type when a value holds another") {
  CHECK_THROWS_WITH_AS(json::parse("\"x\"").as_int(), "json: expected an integer, found string", Error);
}

TEST_CASE("json reader survives 10,000 random byte strings: each parses or throws heed::Error") {
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\":,\\u0123456789abcdefnulltrue -\xC3\xA9\xFF";
  int parsed = 0;
  for (int trial = 0; trial < 10000; ++trial) {
    std::string text(rng() % 24, ' ');
    for (char& c : text) c = (trial % 2) ? char(rng()) : alphabet[rng() % alphabet.size()];
    try {
      json::parse(text);
      ++parsed;
    } catch (const Error&) {
    }
  }
  CHECK(parsed < 10000);
}
