// Vectorized math over the simd.h vector types: exp for the softmax kernels.
//
// exp(x) = 2^n * e^r  with  n = round(x / ln2),  r = x - n*ln2  in [-ln2/2, ln2/2].
//   - r is computed in two steps (Cody-Waite): ln2 = C1 + C2 where C1 has only 9
//     significant bits, so n*C1 is exact and the subtraction loses nothing.
//   - e^r is a degree-7 polynomial (Cephes expf coefficients, minimax on that
//     interval), evaluated by Horner's rule with fused multiply-adds.
//   - 2^n is built straight from the exponent bits (pow2i).
//
// Special cases (as std::exp, except the one flush):
//   x > 88.7228 (result above FLT_MAX), +inf   ->  +inf
//   x < -87.3365 (result below FLT_MIN), -inf  ->  0   (denormal results are
//       flushed to zero: softmax never needs them, and producing them is slow)
//   NaN                                        ->  NaN
//
// Accuracy (tests/tensor/test_vmath.cpp sweeps the float range against a
// double-precision reference): max relative error 1.9e-7 (about 2 ulp) for every
// x in [-87.33, 88.72], with every back end.
#pragma once

#include <limits>

#include "tensor/kernels/simd.h"

namespace heed::simd {

namespace detail {
inline constexpr float kExpHi = 88.72283172607421875f;  // largest float x with exp(x) <= FLT_MAX
inline constexpr float kExpLo = -87.33654022216796875f; // smallest float x with exp(x) >= FLT_MIN
}  // namespace detail

template <class V>
V exp(V x) {
  const V hi = V::broadcast(detail::kExpHi), lo = V::broadcast(detail::kExpLo);
  // Constants first: max/min return their second operand when one is NaN
  // (x86 and the scalar back end), so a NaN x flows through to the result.
  V xc = min(hi, max(lo, x));

  // n in [-126, 128]; the NaN-free order min(n, 127) keeps pow2i's integer
  // conversion defined, and n == 128 (x in [88.38, 88.72]) is fixed up below.
  V n = round(xc * V::broadcast(1.44269504088896341f));  // x / ln2
  V r = fma(n, V::broadcast(-0.693359375f), xc);           // - n*C1, exact
  r = fma(n, V::broadcast(2.12194440e-4f), r);              // - n*C2, C2 < 0

  // e^r ~ 1 + r + r^2 (c0 + c1 r + ... + c5 r^5)
  V p = V::broadcast(1.9875691500e-4f);
  p = fma(p, r, V::broadcast(1.3981999507e-3f));
  p = fma(p, r, V::broadcast(8.3334519073e-3f));
  p = fma(p, r, V::broadcast(4.1665795894e-2f));
  p = fma(p, r, V::broadcast(1.6666665459e-1f));
  p = fma(p, r, V::broadcast(5.0000001201e-1f));
  p = fma(p, r * r, r) + V::broadcast(1.0f);

  V y = p * pow2i(min(n, V::broadcast(127.0f)));
  y = select_gt(n, V::broadcast(127.5f), y + y, y);  // 2^128 = 2 * 2^127
  y = select_gt(lo, x, V::zero(), y);
  return select_gt(x, hi, V::broadcast(std::numeric_limits<float>::infinity()), y);
}

}  // namespace heed::simd
