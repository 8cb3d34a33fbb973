#include "nn/io/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "nn/io/json.h"

namespace heed::nn {

namespace {

// The reference reader refuses headers above 100 MB; so does heed.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// The writer's side: which tensor goes where.
struct Plan {
  std::string header;                   // 8-byte length + padded JSON
  std::vector<const Tensor*> in_order;  // the tensors in data order
};

void put_le64(std::string& out, uint64_t n) {
  for (int k = 0; k < 8; ++k) out += char((n >> (8 * k)) & 0xFF);
}

uint64_t get_le64(std::string_view bytes) {
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(bytes[k]);
  return n;
}

json::Value shape_json(const Shape& shape) {
  json::Value::Array dims;
  for (int64_t d : shape) dims.emplace_back(d);
  return dims;
}

Plan make_plan(const NamedTensors& tensors, const Metadata& metadata) {
  // The reference writer's order: by dtype alignment (all F32 here), then by name.
  std::vector<const std::pair<std::string, Tensor>*> sorted;
  for (const auto& entry : tensors) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });

  json::Value::Object root;
  if (!metadata.empty()) {
    json::Value::Object meta;
    for (const auto& [key, value] : metadata) meta.emplace_back(key, value);
    root.emplace_back("__metadata__", std::move(meta));
  }
  Plan plan;
  int64_t offset = 0;
  for (size_t k = 0; k < sorted.size(); ++k) {
    const auto& [name, t] = *sorted[k];
    HEED_CHECK(!name.empty(), "save_safetensors: a tensor name is empty");
    HEED_CHECK(name != "__metadata__",
               "save_safetensors: \"__metadata__\" is reserved and cannot name a tensor");
    HEED_CHECK(k == 0 || sorted[k - 1]->first != name, "save_safetensors: the name \"", name,
               "\" is used twice");
    HEED_CHECK(t.defined(), "save_safetensors: tensor \"", name, "\" is undefined");
    int64_t end = offset + t.numel() * int64_t(sizeof(float));
    json::Value::Object info;
    info.emplace_back("dtype", "F32");
    info.emplace_back("shape", shape_json(t.shape()));
    info.emplace_back("data_offsets", json::Value::Array{offset, end});
    root.emplace_back(name, std::move(info));
    plan.in_order.push_back(&t);
    offset = end;
  }
  std::string text = json::dump(root);
  text.append((8 - text.size() % 8) % 8, ' ');  // so the data starts 8-byte aligned
  put_le64(plan.header, text.size());
  plan.header += text;
  return plan;
}

// Hands `sink` the file's bytes piece by piece: the header, then each tensor's
// floats as little-endian bytes.
template <class Sink>
void emit(const Plan& plan, Sink&& sink) {
  sink(plan.header.data(), plan.header.size());
  for (const Tensor* t : plan.in_order) {
    Tensor c = contiguous(*t);
    if (c.numel() == 0) continue;
    if constexpr (std::endian::native == std::endian::little) {
      sink(reinterpret_cast<const char*>(c.data()), size_t(c.numel()) * sizeof(float));
    } else {
      std::string bytes(size_t(c.numel()) * sizeof(float), '\0');
      for (int64_t i = 0; i < c.numel(); ++i) {
        uint32_t bits = std::bit_cast<uint32_t>(c.data()[i]);
        for (int k = 0; k < 4; ++k) bytes[4 * i + k] = char((bits >> (8 * k)) & 0xFF);
      }
      sink(bytes.data(), bytes.size());
    }
  }
}

float get_le_float(const char* p) {
  uint32_t bits = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&bits, p, 4);
  } else {
    for (int k = 3; k >= 0; --k) bits = (bits << 8) | static_cast<unsigned char>(p[k]);
  }
  return std::bit_cast<float>(bits);
}

std::string system_error() { return std::strerror(errno); }

// A unique name beside `path`, so the rename that publishes it stays on one file system.
std::string temporary_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return heed::detail::concat(path, ".tmp.", ::getpid(), ".", counter++);
}

// Errors name the path the caller gave; the temporary file is ours, not theirs.
void write_fully(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t written = ::write(fd, data, n);
    if (written < 0 && errno == EINTR) continue;
    HEED_CHECK(written > 0, "save_safetensors: ", path, ": write failed (", system_error(), ")");
    data += written;
    n -= size_t(written);
  }
}

}  // namespace

// ------------------------------------------------------------- writing

std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
  Plan plan = make_plan(tensors, metadata);
  std::string out;
  emit(plan, [&](const char* data, size_t n) { out.append(data, n); });
  return out;
}

}  // namespace heed::nn

void heed::detail::save_safetensors(const std::string& path, const nn::NamedTensors& tensors,
                                    const nn::Metadata& metadata, const SafetensorsWriteHook& before_write) {
  using namespace heed::nn;
  HEED_CHECK(!path.empty(),
             "save_safetensors: the path is empty; give the file to write, e.g. \"model.safetensors\"");
  std::error_code ec;
  HEED_CHECK(!std::filesystem::is_directory(path, ec), "save_safetensors: ", path,
             " is a directory; give a file name inside it, e.g. ",
             (std::filesystem::path(path) / "model.safetensors").string());
  Plan plan = make_plan(tensors, metadata);
  std::string tmp = temporary_path(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    std::string why = system_error();
    std::string dir = std::filesystem::path(path).parent_path().string();
    HEED_CHECK(dir.empty() || std::filesystem::is_directory(dir, ec), "save_safetensors: cannot create ",
               path, ": the directory ", dir, " does not exist (create it first)");
    throw Error(heed::detail::concat("save_safetensors: cannot create ", path, " (", why, ")"));
  }
  try {
    int64_t written = 0;
    emit(plan, [&](const char* data, size_t n) {
      if (before_write) before_write(written);
      write_fully(fd, data, n, path);
      written += int64_t(n);
    });
    // The data must be on disk before the rename makes it the checkpoint.
    HEED_CHECK(::fsync(fd) == 0, "save_safetensors: ", path, ": fsync failed (", system_error(), ")");
    int closed = ::close(fd);
    fd = -1;
    HEED_CHECK(closed == 0, "save_safetensors: ", path, ": close failed (", system_error(), ")");
    HEED_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "save_safetensors: cannot replace ", path, " (",
               system_error(), ")");
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable; a failure here loses nothing already written.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

namespace heed::nn {

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  detail::save_safetensors(path, tensors, metadata, nullptr);
}

// ------------------------------------------------------------- reading

Safetensors parse_safetensors(std::string_view bytes, const std::string& source) {
  auto fail = [&](const auto&... parts) {
    throw Error(heed::detail::concat("load_safetensors: ", source, ": ", parts...));
  };
  const uint64_t size = bytes.size();
  if (size < 8) fail("the file is ", size, " bytes, too short to hold the 8-byte header length");
  const uint64_t n = get_le64(bytes);
  if (n > size - 8) fail("the header length ", n, " goes beyond the end of the file (", size, " bytes)");
  if (n > kMaxHeaderBytes)
    fail("the header length ", n, " is above the limit of ", kMaxHeaderBytes, " bytes");
  const int64_t data_size = int64_t(size - 8 - n);

  json::Value root;
  try {
    root = json::parse(bytes.substr(8, n));
  } catch (const Error& e) {
    fail("malformed JSON header: ", e.what());
  }
  if (!root.is_object()) fail("the header must be a JSON object, not ", root.type_name());

  struct Entry {
    std::string name;
    Shape shape;
    int64_t begin, end;
  };
  std::vector<Entry> entries;
  Safetensors result;
  for (const auto& member : root.as_object()) {
    const std::string& name = member.first;  // a plain reference: lambdas below capture it
    const json::Value& value = member.second;
    if (name == "__metadata__") {
      if (!value.is_object()) fail("__metadata__ must be an object, not ", value.type_name());
      for (const auto& [key, text] : value.as_object()) {
        if (!text.is_string())
          fail("__metadata__ must map strings to strings; \"", key, "\" holds ", text.type_name());
        result.metadata[key] = text.as_string();
      }
      continue;
    }
    auto bad = [&](const auto&... parts) { fail("tensor \"", name, "\": ", parts...); };
    if (!value.is_object()) bad("expected an object, found ", value.type_name());
    for (const auto& [key, field] : value.as_object())
      if (key != "dtype" && key != "shape" && key != "data_offsets") bad("unexpected field \"", key, "\"");
    const json::Value* dtype = value.find("dtype");
    const json::Value* shape = value.find("shape");
    const json::Value* offsets = value.find("data_offsets");
    if (!dtype || !shape || !offsets) bad("needs the fields dtype, shape and data_offsets");
    if (!dtype->is_string()) bad("dtype must be a string");
    if (dtype->as_string() != "F32")
      bad("dtype ", dtype->as_string(), " is not supported; heed reads F32 only");

    Entry e{name, {}, 0, 0};
    if (!shape->is_array()) bad("shape must be an array of sizes");
    if (int64_t(shape->as_array().size()) > Shape::kMaxDims)
      bad("more than ", Shape::kMaxDims, " dimensions");
    int64_t numel = 1;
    for (const json::Value& d : shape->as_array()) {
      if (!d.is_int() || d.as_int() < 0) bad("shape must hold sizes >= 0");
      // Sizes are at most 2^53 each; keep their product at most 2^53 as well.
      if (d.as_int() != 0 && numel > json::kMaxInteger / d.as_int()) bad("the shape holds too many elements");
      numel *= d.as_int();
      e.shape.push_back(d.as_int());
    }
    if (!offsets->is_array() || offsets->as_array().size() != 2 || !offsets->as_array()[0].is_int() ||
        !offsets->as_array()[1].is_int())
      bad("data_offsets must be two integers [begin, end]");
    e.begin = offsets->as_array()[0].as_int();
    e.end = offsets->as_array()[1].as_int();
    if (e.begin < 0 || e.begin > e.end || e.end > data_size)
      bad("data_offsets [", e.begin, ", ", e.end, "] are out of range for ", data_size, " bytes of data");
    if (e.end - e.begin != numel * 4)
      bad("shape ", e.shape, " needs ", numel * 4, " bytes but data_offsets [", e.begin, ", ", e.end,
          "] hold ", e.end - e.begin);
    entries.push_back(std::move(e));
  }

  // The tensors must tile the data exactly: no overlap, no gap, nothing left over.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  int64_t covered = 0;
  for (size_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    if (e.begin < covered) fail("tensors \"", entries[k - 1].name, "\" and \"", e.name, "\" overlap");
    if (e.begin > covered) fail("bytes [", covered, ", ", e.begin, ") of the data belong to no tensor");
    covered = e.end;
  }
  if (covered != data_size)
    fail("the tensors cover ", covered, " bytes of data but the file holds ", data_size);

  // Every size is now known to fit in the file: allocating is safe.
  const char* data = bytes.data() + 8 + n;
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape);
    float* out = t.data();
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = get_le_float(data + e.begin + 4 * i);
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

Safetensors load_safetensors(const std::string& path) {
  HEED_CHECK(!path.empty(),
             "load_safetensors: the path is empty; give the file to read, e.g. \"model.safetensors\"");
  // An ifstream opens a directory without complaint on Linux and reports its
  // size as 2^63 - 1: check the kind of file first.
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  HEED_CHECK(!std::filesystem::is_directory(status), "load_safetensors: ", path,
             " is a directory, not a safetensors file");
  HEED_CHECK(!std::filesystem::exists(status) || std::filesystem::is_regular_file(status),
             "load_safetensors: ", path,
             " is not a regular file (a device, a pipe or a socket), not a safetensors file");
  std::ifstream in(path, std::ios::binary);
  HEED_CHECK(in, "load_safetensors: cannot open ", path, " (", system_error(), ")");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  HEED_CHECK(size >= 0, "load_safetensors: cannot read ", path);
  std::string bytes(size_t(size), '\0');
  in.read(bytes.data(), size);
  HEED_CHECK(in.gcount() == size, "load_safetensors: cannot read ", path);
  return parse_safetensors(bytes, path);
}

}  // namespace heed::nn
