// Shape: the sizes of a tensor's dimensions, printed like PyTorch's "(2, 3)".
//
// A small vector with inline room for kMaxDims sizes, so making a tensor never
// allocates for its shape or strides (small tensors in a recorded graph are
// made millions of times). Strides use the same type.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace heed {

class Shape {
 public:
  static constexpr int kMaxDims = 8;

  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes) { assign(sizes.begin(), sizes.end()); }
  explicit Shape(const std::vector<int64_t>& sizes) { assign(sizes.begin(), sizes.end()); }
  // n dimensions, each of size `value`.
  static Shape filled(int64_t n, int64_t value) {
    Shape s;
    for (int64_t i = 0; i < n; ++i) s.push_back(value);
    return s;
  }

  int64_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  int64_t& operator[](int64_t i) { return d_[i]; }
  int64_t operator[](int64_t i) const { return d_[i]; }
  int64_t back() const { return d_[n_ - 1]; }
  int64_t* begin() { return d_; }
  int64_t* end() { return d_ + n_; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }

  void push_back(int64_t v) {
    HEED_CHECK(n_ < kMaxDims, "Shape: at most ", kMaxDims, " dimensions are supported");
    d_[n_++] = v;
  }
  void pop_back() { --n_; }
  void insert(int64_t at, int64_t v) {
    push_back(0);
    for (int64_t i = n_ - 1; i > at; --i) d_[i] = d_[i - 1];
    d_[at] = v;
  }
  void erase(int64_t at) {
    for (int64_t i = at; i + 1 < n_; ++i) d_[i] = d_[i + 1];
    --n_;
  }

  // Product of the sizes (1 for a scalar's empty shape).
  int64_t numel() const {
    int64_t p = 1;
    for (int64_t i = 0; i < n_; ++i) p *= d_[i];
    return p;
  }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.n_ != b.n_) return false;
    for (int64_t i = 0; i < a.n_; ++i)
      if (a.d_[i] != b.d_[i]) return false;
    return true;
  }

 private:
  template <class It>
  void assign(It first, It last) {
    for (; first != last; ++first) push_back(*first);
  }

  int64_t d_[kMaxDims] = {};
  int64_t n_ = 0;
};

using Strides = Shape;

std::ostream& operator<<(std::ostream& out, const Shape& s);
std::string to_string(const Shape& s);

// The row-major strides of a contiguous tensor of this shape.
Strides contiguous_strides(const Shape& shape);

// Wraps a possibly negative dim into [0, rank); `op` names the caller in the error.
int64_t wrap_dim(int64_t dim, int64_t rank, const char* op);

// NumPy broadcasting: sizes are aligned from the right; each pair must be equal
// or contain a 1. Throws "op: cannot broadcast (2, 3) with (4,)".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace heed
