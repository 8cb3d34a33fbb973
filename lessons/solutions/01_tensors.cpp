// Reference solutions to lesson 01's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>
#include <vector>

#include "lessons/01_tensors/exercises.h"

namespace heed::lesson01 {

Strides contiguous_strides(const Shape& shape) {
  Strides strides = Shape::filled(shape.size(), 1);
  for (int64_t d = shape.size() - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

namespace {

// Turns the odometer `index` over `shape` by one (the last digit fastest) and
// moves each storage offset by the strides of the digits that turned.
// Returns false once every index has been seen.
bool advance(std::vector<int64_t>& index, const Shape& shape, const std::vector<Strides>& strides,
             std::vector<int64_t>& offsets) {
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    if (++index[d] < shape[d]) {
      for (size_t k = 0; k < strides.size(); ++k) offsets[k] += strides[k][d];
      return true;
    }
    // This digit wraps to 0 and carries into the one before it.
    for (size_t k = 0; k < strides.size(); ++k) offsets[k] -= (shape[d] - 1) * strides[k][d];
    index[d] = 0;
  }
  return false;
}

}  // namespace

Tensor to_contiguous(const Tensor& t) {
  Tensor out = empty(t.shape());
  if (t.numel() == 0) return out;
  const float* src = t.storage()->data();
  float* dst = out.data();
  std::vector<int64_t> index(t.dim(), 0), offsets{t.offset()};
  int64_t i = 0;
  do dst[i++] = src[offsets[0]];
  while (advance(index, t.shape(), {t.strides()}, offsets));
  return out;
}

Shape broadcast_shape(const Shape& a, const Shape& b) {
  const int64_t n = std::max(a.size(), b.size());
  Shape out = Shape::filled(n, 1);
  for (int64_t i = 1; i <= n; ++i) {  // i-th size from the right
    const int64_t da = i <= a.size() ? a[a.size() - i] : 1;
    const int64_t db = i <= b.size() ? b[b.size() - i] : 1;
    HEED_CHECK(da == db || da == 1 || db == 1, "broadcast_shape: cannot broadcast ", a, " with ", b,
               ": sizes ", da, " and ", db, " differ and neither is 1");
    out[n - i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// The strides that read `t` from an index of `shape` (which t broadcasts to):
// t's own stride where its size matches, 0 where t is broadcast.
Strides broadcast_strides(const Tensor& t, const Shape& shape) {
  Strides s = Shape::filled(shape.size(), 0);
  const int64_t lead = shape.size() - t.dim();
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) == shape[lead + d]) s[lead + d] = t.stride(d);
  return s;
}

}  // namespace

Tensor add_broadcast(const Tensor& a, const Tensor& b) {
  const Shape shape = broadcast_shape(a.shape(), b.shape());
  Tensor out = empty(shape);
  if (out.numel() == 0) return out;
  const float* pa = a.storage()->data();
  const float* pb = b.storage()->data();
  float* dst = out.data();
  std::vector<int64_t> index(shape.size(), 0), offsets{a.offset(), b.offset()};
  int64_t i = 0;
  do dst[i++] = pa[offsets[0]] + pb[offsets[1]];
  while (advance(index, shape, {broadcast_strides(a, shape), broadcast_strides(b, shape)}, offsets));
  return out;
}

}  // namespace heed::lesson01
