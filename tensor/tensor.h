// Tensor: float32 data seen through a shape, strides and an offset.
//
// Several tensors may share one Storage: a view (transpose, slice, expand, a
// reshape of contiguous data) is a new shape/strides/offset over the same
// floats, made in O(1) without copying. Element (i0, i1, ...) lives at
//
//     data[offset + i0*stride0 + i1*stride1 + ...]
//
// so a transpose swaps two strides, a slice moves the offset, and a broadcast
// (expand) sets a stride to 0. `contiguous()` copies into row-major order when
// a kernel needs it. tensor/ knows nothing of gradients: see autograd/.
//
// Copying a Tensor object is cheap and shares the data, like a shared_ptr.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tensor/error.h"
#include "tensor/shape.h"

namespace heed {

// A float buffer from the reuse pool (tensor/kernels/pool.h), returned to it
// when the last tensor viewing it goes away.
//
// Its version counts the in-place ops (add_, mul_, copy_, fill_) that wrote it,
// through any view. Autograd records the version of every tensor a backward
// saves and checks it when the backward reads it, so an in-place write to a
// saved tensor is an error instead of a silently wrong gradient (as in PyTorch).
// Raw writes through data() or at() are not counted.
class Storage {
 public:
  explicit Storage(int64_t count);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() const { return data_; }
  int64_t count() const { return count_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  float* data_ = nullptr;
  int64_t count_ = 0;
  uint64_t version_ = 0;
};

class Tensor {
 public:
  // An undefined tensor (no storage): the "no mask" / "no grad yet" value.
  Tensor() = default;
  // Literals, one brace level per dim: Tensor{1, 2, 3} is (3), Tensor{{1, 2}, {3, 4}}
  // is (2, 2), Tensor{{1}, {2}} is a column (2, 1), Tensor{{{1}, {2}}} is (1, 2, 1).
  // Every brace is a list, so a single number in braces never reads as a number.
  struct Literal {                  // a number, or a braced list of literals
    Literal(float v) : value(v) {}  // implicit on purpose: Tensor{1, 2.5f, 3}
    Literal(std::initializer_list<Literal> list) : items(list), is_list(true) {}
    float value = 0.0f;
    std::vector<Literal> items;
    bool is_list = false;
  };
  Tensor(std::initializer_list<Literal> items);
  // A view of `storage` (the building block of every op).
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Strides strides, int64_t offset);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t dim() const { return shape_.size(); }
  // Size and stride of one dim; negative dims count from the end.
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const { return shape_.numel(); }
  int64_t offset() const { return offset_; }
  bool is_contiguous() const;

  // Pointer to element (0, 0, ...). Writes through it are seen by every view.
  float* data() const { return storage_->data() + offset_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // The value of a one-element tensor.
  float item() const;
  // The element at a full index; negative indices count from the end.
  float& at(std::initializer_list<int64_t> index) const;
  // All elements in row-major order.
  std::vector<float> to_vector() const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
};

// ------------------------------------------------------------- creation
// Uninitialized memory from the pool: for ops that write every element.
Tensor empty(const Shape& shape);
Tensor zeros(const Shape& shape);
Tensor ones(const Shape& shape);
Tensor full(const Shape& shape, float value);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// [start, end) in steps of `step`, like numpy.arange.
Tensor arange(float start, float end, float step = 1.0f);
Tensor arange(int64_t n);
// Copies `values` into a new tensor of `shape` (their counts must agree).
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
// A 0-dim tensor holding one value.
Tensor scalar(float value);

// ------------------------------------------------------------- views
// Views share storage with their input; negative dims count from the end.
// `view` splits and merges dims wherever strides can express the result (as
// torch.view does: a non-contiguous tensor views too, unless the view would
// merge dims that are not adjacent in memory, which is an error); `reshape`
// views when it can and copies when it cannot. One size may be -1 (inferred).
Tensor view(const Tensor& t, const Shape& shape);
Tensor reshape(const Tensor& t, const Shape& shape);
Tensor flatten(const Tensor& t);
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims);
// Elements start, start+step, ... < end of `dim` (start/end clamp like Python).
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
// Index `index` of `dim`, removing that dim.
Tensor select(const Tensor& t, int64_t dim, int64_t index);
// Broadcasts size-1 dims (and new leading dims) to `shape` with stride 0; -1 keeps a size.
Tensor expand(const Tensor& t, const Shape& shape);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor squeeze(const Tensor& t, int64_t dim);
Tensor squeeze(const Tensor& t);

// ------------------------------------------------------------- copies
// `t` itself when already contiguous, else a row-major copy.
Tensor contiguous(const Tensor& t);
// Always a fresh contiguous copy.
Tensor clone(const Tensor& t);
// Writes src (broadcast to dst's shape) into dst's elements, through views too.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, float value);

namespace detail {
// empty(shape), its errors naming `op` (zeros, matmul, ...): a shape that no
// tensor can have, or memory the system will not give.
Tensor empty_for(const char* op, const Shape& shape);
// Every in-place op starts here: it refuses an expanded (stride-0) dst, where
// several threads would write one element, and bumps dst's storage version.
void begin_inplace(const Tensor& dst, const char* op);
// How many Storages are alive in the program, and their bytes: tests and
// make bench use them to count what a graph keeps.
int64_t live_storages();
int64_t live_storage_bytes();
// The most live_storage_bytes() has been since the last reset (which sets it
// to the bytes live now): the peak memory of what ran in between.
int64_t peak_storage_bytes();
void reset_peak_storage_bytes();
}  // namespace detail

// ------------------------------------------------------------- printing
// Like PyTorch: tensor([[1.0000, 2.0000], ...]), summarized with "..." when big.
std::ostream& operator<<(std::ostream& out, const Tensor& t);
std::string to_string(const Tensor& t);

}  // namespace heed
