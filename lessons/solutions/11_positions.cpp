// Reference solutions to lesson 11's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "lessons/11_positions/exercises.h"
#include "tensor/error.h"

namespace heed::lesson11 {

Tensor sinusoidal_table(int64_t length, int64_t dim) {
  HEED_CHECK(dim > 0 && dim % 2 == 0, "sinusoidal_table: dim must be even, got ", dim);
  Tensor pe = empty({length, dim});
  for (int64_t p = 0; p < length; ++p)
    for (int64_t i = 0; i < dim / 2; ++i) {
      const double angle = double(p) / std::pow(10000.0, 2.0 * double(i) / double(dim));
      pe.data()[p * dim + 2 * i] = float(std::sin(angle));
      pe.data()[p * dim + 2 * i + 1] = float(std::cos(angle));
    }
  return pe;
}

Variable apply_rotary(const Variable& x, int64_t offset) {
  const int64_t T = x.size(-2), Dh = x.size(-1), half = Dh / 2;
  HEED_CHECK(Dh % 2 == 0, "apply_rotary: the head width must be even, got ", x.shape());
  Tensor cos_t = empty({T, half}), sin_t = empty({T, half});  // broadcast over (B, H)
  for (int64_t t = 0; t < T; ++t)
    for (int64_t m = 0; m < half; ++m) {
      const double angle = double(offset + t) * std::pow(10000.0, -2.0 * double(m) / double(Dh));
      cos_t.data()[t * half + m] = float(std::cos(angle));
      sin_t.data()[t * half + m] = float(std::sin(angle));
    }
  Variable even = slice(x, -1, 0, Dh, 2), odd = slice(x, -1, 1, Dh, 2);  // (B, H, T, Dh/2) each
  Variable turned_even = even * cos_t - odd * sin_t;
  Variable turned_odd = even * sin_t + odd * cos_t;
  return reshape(stack({turned_even, turned_odd}, -1), x.shape());  // (..., Dh/2, 2) -> (..., Dh)
}

Tensor relative_distance_ids(int64_t T, int64_t S, int64_t offset, int64_t k) {
  Tensor ids = empty({T, S});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < S; ++j) ids.data()[i * S + j] = float(std::clamp(j - (offset + i), -k, k) + k);
  return ids;
}

}  // namespace heed::lesson11
