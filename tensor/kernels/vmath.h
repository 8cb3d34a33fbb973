// Vectorized math over the simd.h vector types: exp (softmax, elementwise exp),
// log of positive numbers (log-softmax), and tanh and sigmoid built on exp
// (elementwise ops, gelu).
//
// exp(x) = 2^n * e^r  with  n = round(x / ln2),  r = x - n*ln2  in [-ln2/2, ln2/2].
//   - r is computed in two steps (Cody-Waite): ln2 = C1 + C2 where C1 has only 9
//     significant bits, so n*C1 is exact and the subtraction loses nothing.
//     (C1, C2 as in Cephes expf.)
//   - e^r is a degree-5 minimax polynomial on that interval, evaluated by
//     Horner's rule with fused multiply-adds.
//   - 2^n is built straight from the exponent bits (pow2i).
// exp_nonpositive is the same function for x <= 0 only (softmax's x - max):
// without the overflow handling it is 17 vector operations instead of 24.
//
// Special cases (as std::exp, except the one flush):
//   x > 88.7228 (result above FLT_MAX), +inf   ->  +inf
//   x < -87.3365 (result below FLT_MIN), -inf  ->  0   (denormal results are
//       flushed to zero: softmax never needs them, and producing them is slow)
//   NaN                                        ->  NaN
//
// Accuracy, against std::exp in double: max relative error 1.82e-7 (under 2 ulp),
// measured exhaustively over all 2^32 floats in [-87.3365, 88.7228], for exp and
// exp_nonpositive, with the AVX2 and scalar back ends (worst at x = -29.670765).
// tests/tensor/test_vmath.cpp re-checks the bound (1.9e-7) on a strided sweep.
#pragma once

#include <limits>

#include "tensor/kernels/simd.h"

namespace heed::simd {

namespace detail {
inline constexpr float kExpHi = 88.72283172607421875f;   // largest float x with exp(x) <= FLT_MAX
inline constexpr float kExpLo = -87.33654022216796875f;  // smallest float x with exp(x) >= FLT_MIN
// ln2 = C1 + C2, C1 with only 9 significant bits, so that n * C1 is exact for
// the n of exp and the e of log.
inline constexpr float kLn2C1 = 0.693359375f;
inline constexpr float kLn2C2 = -2.12194440e-4f;

// e^r with r = x - n*ln2 in [-ln2/2, ln2/2], for x already clamped to
// [kExpLo, kExpHi] (or NaN) and n = round(x / ln2).
template <class V>
V exp_reduced(V x, V n) {
  V r = fma(n, V::broadcast(-kLn2C1), x);  // - n*C1, exact
  r = fma(n, V::broadcast(-kLn2C2), r);
  // e^r ~ 1 + r (c1 + c2 r + ... + c5 r^4), minimax coefficients from ARM's
  // optimized-routines (v_expf).
  V p = V::broadcast(0x1.0e4020p-7f);
  p = fma(p, r, V::broadcast(0x1.573e2ep-5f));
  p = fma(p, r, V::broadcast(0x1.555e66p-3f));
  p = fma(p, r, V::broadcast(0x1.fffdb6p-2f));
  p = fma(p, r, V::broadcast(0x1.ffffecp-1f));
  return fma(p, r, V::broadcast(1.0f));
}
}  // namespace detail

template <class V>
V exp(V x) {
  const V hi = V::broadcast(detail::kExpHi), lo = V::broadcast(detail::kExpLo);
  // Constants first: max/min return their second operand when one is NaN
  // (x86 and the scalar back end), so a NaN x flows through to the result.
  V xc = min(hi, max(lo, x));
  V n = round(xc * V::broadcast(1.44269504088896341f));  // x / ln2, in [-126, 128]

  // min(n, 127) in this order turns a NaN n into 127, so pow2i's integer
  // conversion stays defined; n == 128 (x in [88.38, 88.72]) is fixed up next.
  V y = detail::exp_reduced(xc, n) * pow2i(min(n, V::broadcast(127.0f)));
  y = select_gt(n, V::broadcast(127.5f), y + y, y);  // 2^128 = 2 * 2^127
  y = select_gt(lo, x, V::zero(), y);
  return select_gt(x, hi, V::broadcast(std::numeric_limits<float>::infinity()), y);
}

// exp for x <= 0 (or NaN) only, as in softmax's exp(x - max): nothing can
// overflow, so the clamp from above and its fix-ups go. Same results as exp.
template <class V>
V exp_nonpositive(V x) {
  const V lo = V::broadcast(detail::kExpLo);
  V xc = max(lo, x);
  V n = round(xc * V::broadcast(1.44269504088896341f));         // in [-126, 0]
  V y = detail::exp_reduced(xc, n) * pow2i(min(n, V::zero()));  // min: NaN n -> 0
  return select_gt(lo, x, V::zero(), y);
}

// exp for softmax's x - max <= 0: the same reduction and polynomial as
// exp_nonpositive in 12 vector operations instead of 17, by building n and 2^n
// with the "magic number" trick instead of round + convert + add + shift:
//   t = x log2(e) + (1.5 * 2^23 + 127)   floats in [2^23, 2^24) are spaced 1
//       apart, so the fma's rounding rounds x log2(e) to the nearest integer n
//       and leaves n + 127 in t's low mantissa bits;
//   n = t - (1.5 * 2^23 + 127)           exact;
//   2^n = shift_to_exponent(t)           n + 127 moved into the exponent field.
// x is first clamped to -88, so n >= -127; n = -127 gives exponent field 0, i.e.
// 2^n = 0, which is how -inf (and every x below about -87.68) becomes exactly 0
// without a compare and blend.
//
// Accuracy, against std::exp in double: for results >= FLT_MIN (x >= -87.3365)
// the same bound as exp_nonpositive, 1.9e-7 (the same r and polynomial; n can
// differ only where x / ln2 is within rounding of a half-integer, where either
// choice is accurate). test_vmath.cpp's strided sweep measures 1.79e-7 (AVX2 and
// scalar). Below FLT_MIN the result is 0 or a denormal (absolute error < FLT_MIN,
// irrelevant next to the row's largest term, 1).
// exp_softmax(0) = 1 exactly, -inf -> 0, NaN -> NaN. Only for x <= 0: positive
// x give wrong results.
template <class V>
V exp_softmax(V x) {
  const V magic = V::broadcast(0x1.8p23f + 127.0f);
  V xc = max(V::broadcast(-88.0f), x);  // constant first: a NaN x flows through
  V t = fma(xc, V::broadcast(1.44269504088896341f), magic);
  V n = t - magic;  // round(x / ln2), in [-127, 0]
  return detail::exp_reduced(xc, n) * shift_to_exponent(t);
}

// log for x >= FLT_MIN, as softmax's row sums (in [1, n]) need it:
//   x = 2^e * m, m in [1, 2); if m > sqrt(2), m /= 2 and e += 1, so that
//   f = m - 1 is in [sqrt(1/2) - 1, sqrt(2) - 1];
//   log(1 + f) = f - f^2 / 2 + f^3 P(f), a degree-8 P (Cephes logf's), which
//   keeps full relative accuracy near x = 1, where the result is about f;
//   log x = e ln2 + log(1 + f), with ln2 = C1 + C2 as in exp (e C1 is exact).
// +inf -> +inf; NaN, negative x, 0 and denormals -> NaN.
// Accuracy, against std::log in double: max relative error 8.14e-8 (at x =
// 2.79686451), measured exhaustively over all positive normal floats with the
// AVX-512 back end (the others compute the same bits, as tested); log 1 = 0
// exactly. test_vmath.cpp re-checks the bound (1e-7) on a strided sweep.
template <class V>
V log_positive(V x) {
  const V sqrt2 = V::broadcast(1.41421356237f);
  V m = mantissa(x), e = exponent(x);
  e = select_gt(m, sqrt2, e + V::broadcast(1.0f), e);
  m = select_gt(m, sqrt2, m * V::broadcast(0.5f), m);
  V f = m - V::broadcast(1.0f), z = f * f;
  V p = V::broadcast(7.0376836292e-2f);
  p = fma(p, f, V::broadcast(-1.1514610310e-1f));
  p = fma(p, f, V::broadcast(1.1676998740e-1f));
  p = fma(p, f, V::broadcast(-1.2420140846e-1f));
  p = fma(p, f, V::broadcast(1.4249322787e-1f));
  p = fma(p, f, V::broadcast(-1.6668057665e-1f));
  p = fma(p, f, V::broadcast(2.0000714765e-1f));
  p = fma(p, f, V::broadcast(-2.4999993993e-1f));
  p = fma(p, f, V::broadcast(3.3333331174e-1f));
  V y = fma(e, V::broadcast(detail::kLn2C2), p * z * f);
  y = fma(z, V::broadcast(-0.5f), y);
  y = fma(e, V::broadcast(detail::kLn2C1), f + y);  // e C1 last: exact, and the largest term
  y = select_gt(x, V::broadcast(std::numeric_limits<float>::max()), x, y);  // +inf
  const V below_normal = V::broadcast(0x1.fffffcp-127f);                    // the largest denormal
  return select_gt(x, below_normal, y, V::broadcast(std::numeric_limits<float>::quiet_NaN()));
}

}  // namespace heed::simd

namespace heed::simd {

// tanh, in two regimes (the split and coefficients of Cephes tanhf):
//   |x| < 0.625:  x + x^3 P(x^2), a degree-4 minimax P: no cancellation near 0;
//   otherwise:    sign(x) (1 - 2 / (e^(2|x|) + 1)), which saturates to +-1
//                 (e^(2|x|) = inf gives 1 exactly).
// Max relative error against double-precision tanh: 1.6e-7 on [-20, 20]
// (sigmoid below: 2.2e-7), re-checked in test_vmath.cpp against 2.5e-7.
template <class V>
V tanh(V x) {
  V a = max(x, V::zero() - x);
  V z = x * x;
  V p = V::broadcast(-5.70498872745e-3f);
  p = fma(p, z, V::broadcast(2.06390887954e-2f));
  p = fma(p, z, V::broadcast(-5.37397155531e-2f));
  p = fma(p, z, V::broadcast(1.33314422036e-1f));
  p = fma(p, z, V::broadcast(-3.33332819422e-1f));
  V small = fma(p * z, x, x);
  V big = V::broadcast(1.0f) - V::broadcast(2.0f) / (exp(a + a) + V::broadcast(1.0f));
  big = select_gt(V::zero(), x, V::zero() - big, big);
  return select_gt(a, V::broadcast(0.625f), big, small);
}

// 1 / (1 + e^-x): e^-x = inf for x < -88.7 gives exactly 0, never NaN. Results
// below FLT_MIN flush to 0, as exp's do.
template <class V>
V sigmoid(V x) {
  return V::broadcast(1.0f) / (V::broadcast(1.0f) + exp(V::zero() - x));
}

}  // namespace heed::simd
