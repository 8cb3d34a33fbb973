#include "nn/attention/rotary.h"

#include <cmath>

namespace heed::nn {

Variable rotary(const Variable& x, int64_t offset, float base) {
  HEED_CHECK(x.dim() >= 2 && x.size(-1) % 2 == 0, "rotary: expected (..., T, Dh) with an even Dh, got ",
             x.shape());
  const int64_t T = x.size(-2), half = x.size(-1) / 2;
  // cos and sin of p * theta_m: (T, Dh/2), constants shared by every batch and head.
  Tensor cos_t = empty({T, half}), sin_t = empty({T, half});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t m = 0; m < half; ++m) {
      double angle = double(offset + t) * std::pow(double(base), -2.0 * double(m) / double(2 * half));
      cos_t.data()[t * half + m] = float(std::cos(angle));
      sin_t.data()[t * half + m] = float(std::sin(angle));
    }
  // The pairs as strided views: even dims (..., T, Dh/2) and odd dims (..., T, Dh/2).
  Variable even = slice(x, -1, 0, 2 * half, 2), odd = slice(x, -1, 1, 2 * half, 2);
  Variable turned_even = even * cos_t - odd * sin_t;
  Variable turned_odd = even * sin_t + odd * cos_t;
  // Interleave back: (..., T, Dh/2, 2) -> (..., T, Dh).
  return reshape(stack({turned_even, turned_odd}, -1), x.shape());
}

}  // namespace heed::nn
