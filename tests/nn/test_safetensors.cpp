// Checkpoints in the safetensors format: round trips, the reference writer's
// exact bytes, and a clear heed::Error for every kind of bad file.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>

#include "nn/io/safetensors.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;
using namespace heed::nn;
namespace fs = std::filesystem;

namespace {

// A fresh, empty directory for one test.
fs::path scratch_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("heed_test_safetensors_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The 8-byte little-endian length, then the header text.
std::string with_length(const std::string& header) {
  std::string out;
  for (int k = 0; k < 8; ++k) out += char((uint64_t(header.size()) >> (8 * k)) & 0xFF);
  return out + header;
}

// Little-endian float32 bytes, written out by hand.
std::string f32(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int k = 0; k < 4; ++k) out += char((bits >> (8 * k)) & 0xFF);
  }
  return out;
}

const Tensor* find(const Safetensors& file, const std::string& name) {
  for (const auto& [n, t] : file.tensors)
    if (n == name) return &t;
  return nullptr;
}

}  // namespace

TEST_CASE("safetensors round-trips tensors bit for bit, including empty, 0-dim and special values") {
  float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor matrix = Tensor{{1.5f, -0.0f, nan}, {inf, -inf, 1e-45f}};  // 1e-45: a denormal
  NamedTensors tensors = {
      {"layer.weight", matrix},
      {"transposed", transpose(matrix, 0, 1)},  // a view: saved in row-major order of its shape
      {"scalar", scalar(42.0f)},
      {"empty", zeros({0, 4})},
      {"big", arange(1000)},
  };
  fs::path dir = scratch_dir("roundtrip");
  save_safetensors((dir / "t.safetensors").string(), tensors, {{"format", "pt"}});
  Safetensors loaded = load_safetensors((dir / "t.safetensors").string());

  REQUIRE(loaded.tensors.size() == tensors.size());
  for (const auto& entry : tensors) {
    CAPTURE(entry.first);
    const Tensor* back = find(loaded, entry.first);
    REQUIRE(back != nullptr);
    CHECK(equal(*back, contiguous(entry.second)));  // shapes and every bit, NaN included
  }
  CHECK(find(loaded, "scalar")->dim() == 0);
  CHECK(find(loaded, "empty")->shape() == Shape{0, 4});
  CHECK(loaded.metadata == Metadata{{"format", "pt"}});
  fs::remove_all(dir);
}

TEST_CASE("safetensors header is byte for byte the reference writer's") {
  // {"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}} is 64 bytes,
  // already a multiple of 8: no padding. The data 0..5 follows as float32 LE.
  std::string expected = with_length(R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})") +
                         f32({0, 1, 2, 3, 4, 5});
  CHECK(expected.size() == 8 + 64 + 24);
  CHECK(serialize_safetensors({{"attn.0", reshape(arange(6), {1, 2, 3})}}) == expected);

  // One byte shorter name, one more dim: 65 bytes of JSON, padded with 7 spaces to 72.
  std::string padded =
      with_length(std::string(R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})") +
                  "       ") +
      f32({0, 1, 2, 3, 4, 5});
  CHECK(serialize_safetensors({{"attn0", reshape(arange(6), {1, 1, 2, 3})}}) == padded);

  // No tensors: "{}" and six spaces. Metadata alone: 35 bytes and five spaces.
  CHECK(serialize_safetensors({}) == with_length("{}      "));
  CHECK(serialize_safetensors({}, {{"framework", "pt"}}) ==
        with_length(R"({"__metadata__":{"framework":"pt"}}     )"));
}

TEST_CASE("safetensors writes __metadata__ first and tensors sorted by name, packed from offset 0") {
  std::string bytes = serialize_safetensors({{"b", Tensor{1, 2}}, {"a", scalar(3)}, {"c", zeros({0})}},
                                            {{"z", "1"}, {"k", "2"}});
  std::string header = R"({"__metadata__":{"k":"2","z":"1"},)"
                       R"("a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                       R"("c":{"dtype":"F32","shape":[0],"data_offsets":[12,12]}})";
  header += std::string((8 - header.size() % 8) % 8, ' ');
  CHECK(bytes == with_length(header) + f32({3, 1, 2}));
  // Loading gives data order back: a, b, c.
  Safetensors back = parse_safetensors(bytes);
  CHECK(back.tensors[0].first == "a");
  CHECK(back.tensors[1].first == "b");
  CHECK(back.tensors[2].first == "c");
}

TEST_CASE("safetensors loads a file assembled by hand the way other writers lay it out") {
  // Keys in any order, whitespace, escapes in names and metadata, padding spaces:
  // all valid JSON and valid safetensors.
  std::string header =
      "{ \"w\\u00e9ight\": {\"shape\": [2, 2], \"dtype\": \"F32\", \"data_offsets\": [8, 24]},\n"
      "  \"bias\": {\"data_offsets\": [0, 8], \"dtype\": \"F32\", \"shape\": [2]},\n"
      "  \"__metadata__\": {\"format\": \"pt\", \"note\": \"line\\nbreak\"} }";
  header += std::string((8 - header.size() % 8) % 8, ' ');
  Safetensors file = parse_safetensors(with_length(header) + f32({-1, 1, 1, 2, 3, 4}));
  REQUIRE(file.tensors.size() == 2);
  CHECK(file.tensors[0].first == "bias");
  CHECK(equal(file.tensors[0].second, Tensor{-1, 1}));
  CHECK(file.tensors[1].first == "w\xC3\xA9ight");
  CHECK(equal(file.tensors[1].second, Tensor{{1, 2}, {3, 4}}));
  CHECK(file.metadata.at("note") == "line\nbreak");
}

TEST_CASE("safetensors answers every kind of bad file with an error naming the file and the problem") {
  auto header_file = [](const std::string& header, const std::string& data) {
    return with_length(header) + data;
  };
  const std::string ok_entry = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  struct Case {
    std::string bytes, message;
  };
  Case cases[] = {
      {"abc", "bad.safetensors: the file is 3 bytes, too short to hold the 8-byte header length"},
      {with_length("{}").substr(0, 9), "the header length 2 goes beyond the end of the file (9 bytes)"},
      {std::string("\xff\xff\xff\xff\xff\xff\xff\xff{}", 10), "goes beyond the end of the file (10 bytes)"},
      {header_file("{\"a\":", ""), "malformed JSON header: json: unexpected end of input at byte 5"},
      {header_file("[1]", ""), "the header must be a JSON object, not array"},
      {header_file(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", f32({0})),
       "tensor \"a\": dtype F16 is not supported; heed reads F32 only"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2]}})", ""),
       "tensor \"a\": needs the fields dtype, shape and data_offsets"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", f32({0, 0})),
       "tensor \"a\": unexpected field \"x\""},
      {header_file(R"({"a":[]})", ""), "tensor \"a\": expected an object, found array"},
      {header_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32({0, 0})),
       "tensor \"a\": shape must hold sizes >= 0"},
      {header_file(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", f32({0})),
       "tensor \"a\": more than 8 dimensions"},
      {header_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", f32({0})),
       "tensor \"a\": the shape holds too many elements"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", f32({0, 0})),
       "tensor \"a\": data_offsets must be two integers [begin, end]"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", f32({0, 0})),
       "tensor \"a\": data_offsets [0, 16] are out of range for 8 bytes of data"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", f32({0, 0})),
       "tensor \"a\": data_offsets [8, 0] are out of range for 8 bytes of data"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,8]}})", f32({0, 0})),
       "tensor \"a\": shape (2, 3) needs 24 bytes but data_offsets [0, 8] hold 8"},
      {header_file("{" + ok_entry + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                   f32({0, 0, 0})),
       "tensors \"a\" and \"b\" overlap"},
      {header_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", f32({0, 0, 0})),
       "bytes [0, 4) of the data belong to no tensor"},
      {header_file("{" + ok_entry + "}", f32({0, 0, 0})),
       "the tensors cover 8 bytes of data but the file holds 12"},
      {header_file(R"({"__metadata__":{"k":1}})", ""),
       "__metadata__ must map strings to strings; \"k\" holds integer"},
      {header_file(R"({"__metadata__":[]})", ""), "__metadata__ must be an object, not array"},
  };
  fs::path dir = scratch_dir("errors");
  std::string path = (dir / "bad.safetensors").string();
  for (const Case& c : cases) {
    CAPTURE(c.message);
    write_bytes(path, c.bytes);
    CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(("load_safetensors: " + path).c_str()),
                         Error);
    CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(c.message.c_str()), Error);
  }
  CHECK_THROWS_WITH_AS(load_safetensors((dir / "missing.safetensors").string()),
                       doctest::Contains("missing.safetensors (No such file or directory)"), Error);
  fs::remove_all(dir);
}

TEST_CASE("safetensors refuses to save duplicate, empty or reserved names") {
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"a", scalar(1)}, {"a", scalar(2)}}),
                       "save_safetensors: the name \"a\" is used twice", Error);
  CHECK_THROWS_WITH_AS(serialize_safetensors({{"", scalar(1)}}), "save_safetensors: a tensor name is empty",
                       Error);
  CHECK_THROWS_AS(serialize_safetensors({{"__metadata__", scalar(1)}}), Error);
  CHECK_THROWS_AS(serialize_safetensors({{"x", Tensor()}}), Error);
}

TEST_CASE(
    "safetensors survives 10,000 random truncations and byte flips: each is a heed::Error or a valid file") {
  Generator gen(3);
  std::string valid = serialize_safetensors({{"encoder.weight", randn({3, 4}, gen)},
                                             {"encoder.bias", randn({4}, gen)},
                                             {"s", scalar(1)},
                                             {"e", zeros({0})}},
                                            {{"format", "pt"}});
  const size_t header_end = 8 + size_t(valid[0] & 0xFF);  // the header is shorter than 256 bytes
  std::mt19937 rng(11);
  int errors = 0, truncations = 0;
  for (int trial = 0; trial < 10000; ++trial) {
    std::string bytes = valid;
    if (trial % 4 == 0) {
      bytes.resize(rng() % valid.size());  // every truncation breaks the exact-cover rule
      ++truncations;
    } else {
      // Mostly in the 8-byte length and the header, where a flip changes meaning.
      int flips = 1 + int(rng() % 3);
      for (int f = 0; f < flips; ++f) {
        size_t at = (trial % 8 == 1) ? rng() % valid.size() : rng() % header_end;
        bytes[at] = char(rng());
      }
    }
    try {
      Safetensors file = parse_safetensors(bytes, "fuzzed");
      CHECK(file.tensors.size() <= 4);
    } catch (const Error&) {
      ++errors;
    }
  }
  CHECK(errors >= truncations);
  CHECK(errors > 9000);
}

TEST_CASE("a save that fails midway leaves the old checkpoint intact and no temporary file behind") {
  fs::path dir = scratch_dir("atomic");
  std::string path = (dir / "model.safetensors").string();
  save_safetensors(path, {{"w", Tensor{1, 2, 3}}});
  std::string before = read_bytes(path);

  // Fail once the 8-byte length and the header are on disk, before the data.
  auto disk_full = [](int64_t written) {
    if (written > 8) throw Error("simulated: no space left on device");
  };
  CHECK_THROWS_WITH_AS(
      detail::save_safetensors(path, {{"w", Tensor{4, 5, 6}}, {"v", zeros({100})}}, {}, disk_full),
      "simulated: no space left on device", Error);

  CHECK(read_bytes(path) == before);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    CAPTURE(entry.path().string());
    CHECK(entry.path().filename() == "model.safetensors");
    ++files;
  }
  CHECK(files == 1);

  // And a save that succeeds replaces it.
  save_safetensors(path, {{"w", Tensor{4, 5, 6}}});
  CHECK(equal(load_safetensors(path).tensors.at(0).second, Tensor{4, 5, 6}));
  fs::remove_all(dir);
}

TEST_CASE(
    "safetensors cross-check with the independent Python reader (run by tests/nn/check_safetensors.py)") {
  // The script sets HEED_CROSSCHECK_DIR, writes python.safetensors there with its
  // own writer, runs this test, then reads heed.safetensors with its own reader.
  const char* dir = std::getenv("HEED_CROSSCHECK_DIR");
  if (dir == nullptr) return;  // not under the script
  Safetensors py = load_safetensors(std::string(dir) + "/python.safetensors");
  REQUIRE(py.tensors.size() == 4);
  CHECK(equal(*find(py, "layers.0.weight"), Tensor{{-1.0f, -0.5f, 0.0f}, {0.5f, 1.0f, 1.5f}}));
  CHECK(equal(*find(py, "layers.0.bias"), Tensor{0.125f, -2.5f, 3.25f}));
  CHECK(equal(*find(py, "scale"), scalar(42.0f)));
  CHECK(find(py, "empty")->shape() == Shape{0, 4});
  CHECK(py.metadata == Metadata{{"format", "pt"}, {"note", "caf\xC3\xA9 \"quoted\"\n\x01"}});
  // Handed the same tensors in another order, heed must write the file Python wrote.
  NamedTensors reordered(py.tensors.rbegin(), py.tensors.rend());
  save_safetensors(std::string(dir) + "/heed.safetensors", reordered, py.metadata);
}
