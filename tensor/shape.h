// Shape: the sizes of a tensor's dimensions, printed like PyTorch's "(2, 3)".
//
// A small vector with inline room for kMaxDims sizes, so making a tensor never
// allocates for its shape or strides (small tensors in a recorded graph are
// made millions of times). Strides use the same type.
//
// A tensor's shape has sizes >= 0 whose product, with zeros counted as ones,
// fits an int64 (at most 2^63 - 1 elements). Counting zeros as ones keeps every
// partial product fitting too (the rows of a loop, a reduction's R), in any
// order of the dims: (0, 2^32, 2^32) is refused like (2^32, 2^32). Every op
// that makes a new shape (empty, expand, view, cat, ...) checks it with
// detail::check_shape, so sizes multiplied anywhere else cannot overflow; and
// numel() itself throws rather than wrap, for a shape no tensor can have.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace heed {

class Shape;
namespace detail {
[[noreturn]] void throw_too_many_elements(const Shape& shape, const char* op);
}  // namespace detail

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

  // Product of the sizes (1 for a scalar's empty shape). Throws when the sizes,
  // zeros counted as ones, multiply past int64: the rule at the top of this file.
  int64_t numel() const {
    int64_t p = 1;
    bool zero = false;
    for (int64_t i = 0; i < n_; ++i) {
      zero = zero || d_[i] == 0;
      if (d_[i] != 0 && __builtin_mul_overflow(p, d_[i], &p)) detail::throw_too_many_elements(*this, "numel");
    }
    return zero ? 0 : p;
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
// or contain a 1. Throws "op: cannot broadcast (2, 3) with (4,)". The result may
// have too many elements ((2^32, 1) with (1, 2^32)): the op that allocates it checks.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

namespace detail {
// Throws heed::Error naming `op` unless `shape` can be a tensor's (see the top
// of this file): a negative size, or sizes that multiply past 2^63 - 1.
void check_shape(const Shape& shape, const char* op);
}  // namespace detail

}  // namespace heed
