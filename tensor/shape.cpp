#include "tensor/shape.h"

#include <ostream>
#include <sstream>

namespace heed {

std::ostream& operator<<(std::ostream& out, const Shape& s) {
  out << '(';
  for (int64_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  return out << (s.size() == 1 ? ",)" : ")");
}

std::string to_string(const Shape& s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

Strides contiguous_strides(const Shape& shape) {
  Strides s = Shape::filled(shape.size(), 1);
  for (int64_t i = shape.size() - 2; i >= 0; --i) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

int64_t wrap_dim(int64_t dim, int64_t rank, const char* op) {
  HEED_CHECK(dim >= -rank && dim < rank, op, ": dim ", dim, " is out of range for a tensor with ", rank,
             " dimension", rank == 1 ? "" : "s", " (expected ", -rank, " to ", rank - 1, ")");
  return dim < 0 ? dim + rank : dim;
}

namespace detail {

void throw_too_many_elements(const Shape& shape, const char* op) {
  throw Error(concat(op, ": shape ", shape, " has too many elements: its sizes multiply past 2^63 - 1, ",
                     "the most an int64 can count; check the sizes"));
}

void check_shape(const Shape& shape, const char* op) {
  int64_t p = 1;
  for (int64_t s : shape) {
    HEED_CHECK(s >= 0, op, ": negative size in shape ", shape);
    if (s > 0 && __builtin_mul_overflow(p, s, &p)) throw_too_many_elements(shape, op);
  }
}

}  // namespace detail

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  int64_t rank = std::max(a.size(), b.size());
  Shape out = Shape::filled(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    HEED_CHECK(da == db || da == 1 || db == 1, op, ": cannot broadcast ", a, " with ", b, ": sizes ", da,
               " and ", db, " at dim ", i, " differ and neither is 1");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace heed
