// Checkpoints in the safetensors format, the one PyTorch users share models in:
//
//   8 bytes       N, the header length, a little-endian uint64
//   N bytes       JSON: {"__metadata__":{"k":"v",...},
//                        "name":{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]},...}
//                 padded with spaces to a multiple of 8, so the data that follows
//                 is 8-byte aligned
//   the rest      the tensors' raw little-endian bytes, row-major; tensor `name`
//                 is bytes [begin, end) of this part
//
// heed writes what the reference library (huggingface/safetensors) writes for
// the same tensors: "__metadata__" first (omitted when empty, its keys sorted),
// then the tensors sorted by name (the reference sorts by dtype, then by name;
// heed has only F32), packed back to back from offset 0, JSON without
// whitespace. So a file heed saves is byte for byte the file
// safetensors.torch.save_file would save from the same float32 tensors.
//
// Reading checks everything before allocating anything: a hostile or damaged
// file is answered with a heed::Error naming the file and the problem, never a
// crash and never an allocation larger than the file itself.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace heed::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct Safetensors {
  NamedTensors tensors;  // in file (data offset) order
  Metadata metadata;     // the "__metadata__" string map, empty when absent
};

// Writes a temporary file beside `path`, flushes it to disk, then renames it
// over `path`: a save that fails (full disk, an error) leaves any existing file
// untouched and no temporary file behind. Names must be unique and non-empty.
void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
Safetensors load_safetensors(const std::string& path);

// The same, in memory. `source` names the bytes in error messages.
std::string serialize_safetensors(const NamedTensors& tensors, const Metadata& metadata = {});
Safetensors parse_safetensors(std::string_view bytes, const std::string& source = "<memory>");

}  // namespace heed::nn

// In heed::detail, not heed::nn::detail, so nn code's `detail::concat` still
// finds heed::detail.
namespace heed::detail {
// Called with the number of bytes written so far before each write to the
// temporary file; throwing from it simulates a failure midway (tests only).
using SafetensorsWriteHook = std::function<void(int64_t bytes_written)>;
void save_safetensors(const std::string& path, const nn::NamedTensors& tensors, const nn::Metadata& metadata,
                      const SafetensorsWriteHook& before_write);
}  // namespace heed::detail
