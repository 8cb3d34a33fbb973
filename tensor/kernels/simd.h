// One small vector abstraction for every kernel in heed.
//
// A kernel is written once as a template over a vector type `V` and reads like
// scalar code:  V acc = V::zero(); acc = fma(V::load(a + i), V::broadcast(b), acc);
// Four back ends implement the same surface:
//
//   VecScalar   1 float   always built: the reference the others are tested against
//   VecAVX2     8 floats  x86 with AVX2 + FMA
//   VecAVX512  16 floats  x86 with AVX-512F
//   VecNEON     4 floats  ARM (AArch64 NEON)
//
// `Vec` names the widest one the compiler targets (-march=native picks it). Tails
// shorter than a vector are handled by running the same template with VecScalar,
// so there is no separate tail code to get wrong.
//
// How each is checked: the native back end against VecScalar in every test run;
// NEON by `make test-neon` (built for aarch64, run under qemu); AVX2 on an
// AVX-512 machine by `make test-avx2`. CI runs all three.
//
// This header and the other files in tensor/kernels/ are the only places in heed
// with intrinsics.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX2__)
// GCC 12's AVX-512 headers build "undefined" vectors as `__m512 __Y = __Y;`,
// which -Wall reports at every inlined use (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
#include <arm_neon.h>
#endif

namespace heed::simd {

// ---------------------------------------------------------------- scalar
struct VecScalar {
  static constexpr int width = 1;
  static constexpr const char* name = "scalar";
  float v;

  static VecScalar zero() { return {0.0f}; }
  static VecScalar broadcast(float x) { return {x}; }
  static VecScalar load(const float* p) { return {*p}; }
  void store(float* p) const { *p = v; }
  // The first `count` lanes (0 <= count <= width) from p, the others `fill`;
  // and the first `count` lanes to p. Nothing past p + count is touched.
  static VecScalar load_first(const float* p, int count, float fill) { return {count > 0 ? *p : fill}; }
  void store_first(float* p, int count) const {
    if (count > 0) *p = v;
  }
  // Streaming store: bypasses the cache on back ends that have one.
  void stream(float* p) const { *p = v; }

  friend VecScalar operator+(VecScalar a, VecScalar b) { return {a.v + b.v}; }
  friend VecScalar operator-(VecScalar a, VecScalar b) { return {a.v - b.v}; }
  friend VecScalar operator*(VecScalar a, VecScalar b) { return {a.v * b.v}; }
  friend VecScalar operator/(VecScalar a, VecScalar b) { return {a.v / b.v}; }
  friend VecScalar fma(VecScalar a, VecScalar b, VecScalar c) { return {std::fma(a.v, b.v, c.v)}; }
  friend VecScalar max(VecScalar a, VecScalar b) { return {a.v > b.v ? a.v : b.v}; }
  friend VecScalar min(VecScalar a, VecScalar b) { return {a.v < b.v ? a.v : b.v}; }
  // Round to nearest even, like the vector round instructions.
  friend VecScalar round(VecScalar a) { return {std::nearbyint(a.v)}; }
  // 2^n for a float n holding an integer in [-126, 127]: built from the exponent bits.
  friend VecScalar pow2i(VecScalar n) {
    int32_t bits = (static_cast<int32_t>(n.v) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return {r};
  }
  // The float whose bit pattern is t's shifted left by 23: t's low 9 mantissa
  // bits land in the sign and exponent fields. With t = m + 2^23 (m an integer
  // in [0, 255], so t's low bits hold m) this is 2^(m - 127), and 0 for m = 0;
  // vmath.h's exp_softmax builds 2^n this way without a float->int conversion.
  friend VecScalar shift_to_exponent(VecScalar t) {
    uint32_t bits;
    std::memcpy(&bits, &t.v, sizeof bits);
    bits <<= 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return {r};
  }
  // For a positive normal x = 2^e * m, m in [1, 2): e as a float, and m. Other
  // x (zero, denormal, negative, inf, NaN) give unspecified values: callers
  // patch them (vmath.h's log_positive).
  friend VecScalar exponent(VecScalar x) {
    uint32_t bits;
    std::memcpy(&bits, &x.v, sizeof bits);
    return {float(int32_t(bits >> 23 & 0xff) - 127)};
  }
  friend VecScalar mantissa(VecScalar x) {
    uint32_t bits;
    std::memcpy(&bits, &x.v, sizeof bits);
    bits = (bits & 0x007fffff) | 0x3f800000;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return {r};
  }
  // x in the lanes where a > b, else y: used to patch special cases (-inf, overflow).
  friend VecScalar select_gt(VecScalar a, VecScalar b, VecScalar x, VecScalar y) {
    return {a.v > b.v ? x.v : y.v};
  }
  friend float hsum(VecScalar a) { return a.v; }
  friend float hmax(VecScalar a) { return a.v; }
};

// ---------------------------------------------------------------- AVX2 + FMA
#if defined(__AVX2__) && defined(__FMA__)
struct VecAVX2 {
  static constexpr int width = 8;
  static constexpr const char* name = "avx2";
  __m256 v;

  static VecAVX2 zero() { return {_mm256_setzero_ps()}; }
  static VecAVX2 broadcast(float x) { return {_mm256_set1_ps(x)}; }
  static VecAVX2 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  static __m256i first_lanes(int count) {  // lane i all ones when i < count
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static VecAVX2 load_first(const float* p, int count, float fill) {
    __m256i m = first_lanes(count);
    return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))};
  }
  void store_first(float* p, int count) const { _mm256_maskstore_ps(p, first_lanes(count), v); }
  void stream(float* p) const {
    if ((reinterpret_cast<uintptr_t>(p) & 31) == 0)
      _mm256_stream_ps(p, v);
    else
      _mm256_storeu_ps(p, v);
  }

  friend VecAVX2 operator+(VecAVX2 a, VecAVX2 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend VecAVX2 operator-(VecAVX2 a, VecAVX2 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend VecAVX2 operator*(VecAVX2 a, VecAVX2 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend VecAVX2 operator/(VecAVX2 a, VecAVX2 b) { return {_mm256_div_ps(a.v, b.v)}; }
  friend VecAVX2 fma(VecAVX2 a, VecAVX2 b, VecAVX2 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  friend VecAVX2 max(VecAVX2 a, VecAVX2 b) { return {_mm256_max_ps(a.v, b.v)}; }
  friend VecAVX2 min(VecAVX2 a, VecAVX2 b) { return {_mm256_min_ps(a.v, b.v)}; }
  friend VecAVX2 round(VecAVX2 a) {
    return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  friend VecAVX2 pow2i(VecAVX2 n) {
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
    return {_mm256_castsi256_ps(e)};
  }
  friend VecAVX2 shift_to_exponent(VecAVX2 t) {
    return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t.v), 23))};
  }
  friend VecAVX2 exponent(VecAVX2 x) {
    __m256i e = _mm256_and_si256(_mm256_srli_epi32(_mm256_castps_si256(x.v), 23), _mm256_set1_epi32(0xff));
    return {_mm256_cvtepi32_ps(_mm256_sub_epi32(e, _mm256_set1_epi32(127)))};
  }
  friend VecAVX2 mantissa(VecAVX2 x) {
    __m256i m = _mm256_and_si256(_mm256_castps_si256(x.v), _mm256_set1_epi32(0x007fffff));
    return {_mm256_castsi256_ps(_mm256_or_si256(m, _mm256_set1_epi32(0x3f800000)))};
  }
  friend VecAVX2 select_gt(VecAVX2 a, VecAVX2 b, VecAVX2 x, VecAVX2 y) {
    return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ))};
  }
  friend float hsum(VecAVX2 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  friend float hmax(VecAVX2 a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};
#endif

// ---------------------------------------------------------------- AVX-512
#if defined(__AVX512F__)
struct VecAVX512 {
  static constexpr int width = 16;
  static constexpr const char* name = "avx512";
  __m512 v;

  static VecAVX512 zero() { return {_mm512_setzero_ps()}; }
  static VecAVX512 broadcast(float x) { return {_mm512_set1_ps(x)}; }
  static VecAVX512 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  static VecAVX512 load_first(const float* p, int count, float fill) {
    return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), __mmask16((1u << count) - 1), p)};
  }
  void store_first(float* p, int count) const { _mm512_mask_storeu_ps(p, __mmask16((1u << count) - 1), v); }
  void stream(float* p) const {
    if ((reinterpret_cast<uintptr_t>(p) & 63) == 0)
      _mm512_stream_ps(p, v);
    else
      _mm512_storeu_ps(p, v);
  }

  friend VecAVX512 operator+(VecAVX512 a, VecAVX512 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend VecAVX512 operator-(VecAVX512 a, VecAVX512 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend VecAVX512 operator*(VecAVX512 a, VecAVX512 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend VecAVX512 operator/(VecAVX512 a, VecAVX512 b) { return {_mm512_div_ps(a.v, b.v)}; }
  friend VecAVX512 fma(VecAVX512 a, VecAVX512 b, VecAVX512 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  friend VecAVX512 max(VecAVX512 a, VecAVX512 b) { return {_mm512_max_ps(a.v, b.v)}; }
  friend VecAVX512 min(VecAVX512 a, VecAVX512 b) { return {_mm512_min_ps(a.v, b.v)}; }
  friend VecAVX512 round(VecAVX512 a) {
    return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  friend VecAVX512 pow2i(VecAVX512 n) {
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23);
    return {_mm512_castsi512_ps(e)};
  }
  friend VecAVX512 shift_to_exponent(VecAVX512 t) {
    return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t.v), 23))};
  }
  friend VecAVX512 exponent(VecAVX512 x) { return {_mm512_getexp_ps(x.v)}; }
  friend VecAVX512 mantissa(VecAVX512 x) {
    return {_mm512_getmant_ps(x.v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero)};
  }
  friend VecAVX512 select_gt(VecAVX512 a, VecAVX512 b, VecAVX512 x, VecAVX512 y) {
    return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ), y.v, x.v)};
  }
  friend float hsum(VecAVX512 a) { return _mm512_reduce_add_ps(a.v); }
  friend float hmax(VecAVX512 a) { return _mm512_reduce_max_ps(a.v); }
};
#endif

// ---------------------------------------------------------------- NEON
#if defined(__aarch64__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))
struct VecNEON {
  static constexpr int width = 4;
  static constexpr const char* name = "neon";
  float32x4_t v;

  static VecNEON zero() { return {vdupq_n_f32(0.0f)}; }
  static VecNEON broadcast(float x) { return {vdupq_n_f32(x)}; }
  static VecNEON load(const float* p) { return {vld1q_f32(p)}; }
  void store(float* p) const { vst1q_f32(p, v); }
  static VecNEON load_first(const float* p, int count, float fill) {
    float lanes[4] = {fill, fill, fill, fill};
    for (int i = 0; i < count; ++i) lanes[i] = p[i];
    return {vld1q_f32(lanes)};
  }
  void store_first(float* p, int count) const {
    float lanes[4];
    vst1q_f32(lanes, v);
    for (int i = 0; i < count; ++i) p[i] = lanes[i];
  }
  void stream(float* p) const { vst1q_f32(p, v); }

  friend VecNEON operator+(VecNEON a, VecNEON b) { return {vaddq_f32(a.v, b.v)}; }
  friend VecNEON operator-(VecNEON a, VecNEON b) { return {vsubq_f32(a.v, b.v)}; }
  friend VecNEON operator*(VecNEON a, VecNEON b) { return {vmulq_f32(a.v, b.v)}; }
  friend VecNEON operator/(VecNEON a, VecNEON b) { return {vdivq_f32(a.v, b.v)}; }
  friend VecNEON fma(VecNEON a, VecNEON b, VecNEON c) { return {vfmaq_f32(c.v, a.v, b.v)}; }
  friend VecNEON max(VecNEON a, VecNEON b) { return {vmaxq_f32(a.v, b.v)}; }
  friend VecNEON min(VecNEON a, VecNEON b) { return {vminq_f32(a.v, b.v)}; }
  friend VecNEON round(VecNEON a) { return {vrndnq_f32(a.v)}; }
  friend VecNEON pow2i(VecNEON n) {
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n.v), vdupq_n_s32(127)), 23);
    return {vreinterpretq_f32_s32(e)};
  }
  friend VecNEON shift_to_exponent(VecNEON t) {
    return {vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(t.v), 23))};
  }
  friend VecNEON exponent(VecNEON x) {
    uint32x4_t e = vandq_u32(vshrq_n_u32(vreinterpretq_u32_f32(x.v), 23), vdupq_n_u32(0xff));
    return {vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(e), vdupq_n_s32(127)))};
  }
  friend VecNEON mantissa(VecNEON x) {
    uint32x4_t m = vandq_u32(vreinterpretq_u32_f32(x.v), vdupq_n_u32(0x007fffff));
    return {vreinterpretq_f32_u32(vorrq_u32(m, vdupq_n_u32(0x3f800000)))};
  }
  friend VecNEON select_gt(VecNEON a, VecNEON b, VecNEON x, VecNEON y) {
    return {vbslq_f32(vcgtq_f32(a.v, b.v), x.v, y.v)};
  }
  friend float hsum(VecNEON a) { return vaddvq_f32(a.v); }
  friend float hmax(VecNEON a) { return vmaxvq_f32(a.v); }
};
#endif

// ---------------------------------------------------------------- store fence
// Streaming stores are weakly ordered: after a run of stream() calls, and before
// another thread may read the data, call store_fence(). It is a no-op where
// stream() is a plain store (scalar, NEON).
inline void store_fence() {
#if defined(__AVX512F__) || defined(__AVX2__)
  _mm_sfence();
#endif
}

// ---------------------------------------------------------------- the native choice
#if defined(__AVX512F__)
using Vec = VecAVX512;
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = VecAVX2;
#elif defined(__aarch64__) && (defined(__ARM_NEON) || defined(__ARM_NEON__))
using Vec = VecNEON;
#else
using Vec = VecScalar;
#endif

}  // namespace heed::simd
