// The SIMD exp and log against std::, and every simd.h back end against the scalar one.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/kernels/simd.h"
#include "tensor/kernels/vmath.h"

namespace heed::simd {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kMaxRelError = 1.9e-7;  // the bound documented in vmath.h

// Applies f to every element of xs, a whole vector of V at a time.
template <class V, class F>
std::vector<float> apply(F f, const std::vector<float>& xs) {
  std::vector<float> ys(xs.size());
  for (size_t i = 0; i + V::width <= xs.size(); i += V::width) f(V::load(&xs[i])).store(&ys[i]);
  return ys;
}

// Floats spread over every exponent and sign: every stride-th bit pattern, plus
// dense runs around the places where exp changes behaviour.
std::vector<float> sweep_inputs() {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 997)
    xs.push_back(std::bit_cast<float>(uint32_t(bits)));
  for (float centre : {detail::kExpHi, detail::kExpLo, 0.0f, -0.0f, 88.3762626647949f /* n: 127 -> 128 */}) {
    float up = centre, down = centre;
    for (int i = 0; i < 3000; ++i)
      xs.push_back(up = std::nextafter(up, kInf)), xs.push_back(down = std::nextafter(down, -kInf));
  }
  for (float x : {0.0f, -0.0f, kInf, -kInf, kNaN, -kNaN, std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()})
    xs.push_back(x);
  while (xs.size() % 16) xs.push_back(1.0f);
  return xs;
}

// Checks y = exp(x) for one input against the documented behaviour; returns the
// relative error where it is measured (the normal range), else 0.
double check_exp(float x, float y) {
  if (std::isnan(x)) {
    CHECK(std::isnan(y));
    return 0;
  }
  if (x > detail::kExpHi) {
    CHECK(y == kInf);
    return 0;
  }
  if (x < detail::kExpLo) {
    CHECK(y == 0.0f);  // flushed: the true value is below FLT_MIN
    return 0;
  }
  double exact = std::exp(double(x));
  return std::fabs(double(y) - exact) / exact;
}

template <class V>
void check_exp_sweep(bool nonpositive) {
  std::vector<float> xs = sweep_inputs();
  std::vector<float> ys = nonpositive ? apply<V>([](V v) { return exp_nonpositive(v); }, xs)
                                      : apply<V>([](V v) { return exp(v); }, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (nonpositive && xs[i] > 0) continue;  // outside its domain
    worst = std::max(worst, check_exp(xs[i], ys[i]));
  }
  CHECK(worst <= kMaxRelError);
  std::string label = std::string(V::name) + (nonpositive ? " exp_nonpositive" : " exp");
  MESSAGE(label, ": max relative error ", worst);
}

TEST_CASE("exp matches std::exp to 1.9e-7 over the whole float range, native and scalar") {
  check_exp_sweep<Vec>(false);
  check_exp_sweep<VecScalar>(false);
}

TEST_CASE("exp_nonpositive matches std::exp to 1.9e-7 for every x <= 0, native and scalar") {
  check_exp_sweep<Vec>(true);
  check_exp_sweep<VecScalar>(true);
}

TEST_CASE("exp special cases: -inf -> 0, +inf -> inf, NaN -> NaN, exp(0) = 1") {
  std::vector<float> xs = {-kInf,
                           kInf,
                           kNaN,
                           0.0f,
                           -0.0f,
                           -1000.0f,
                           1000.0f,
                           detail::kExpHi,
                           std::nextafter(detail::kExpHi, kInf),
                           detail::kExpLo,
                           std::nextafter(detail::kExpLo, -kInf),
                           -1e-30f,
                           1e-30f,
                           -1.0f,
                           1.0f,
                           88.5f};
  auto check = [&](const std::vector<float>& ys, bool nonpositive) {
    CHECK(ys[0] == 0.0f);
    CHECK(std::isnan(ys[2]));
    CHECK(ys[3] == 1.0f);
    CHECK(ys[4] == 1.0f);
    CHECK(ys[5] == 0.0f);
    CHECK(ys[9] >= std::numeric_limits<float>::min());  // the last normal result
    CHECK(ys[10] == 0.0f);                              // the first flushed one
    CHECK(ys[11] == 1.0f);
    if (nonpositive) return;
    CHECK(ys[1] == kInf);
    CHECK(ys[6] == kInf);
    CHECK(ys[7] == doctest::Approx(3.40282e38f).epsilon(1e-5));  // just below FLT_MAX
    CHECK(ys[8] == kInf);
    CHECK(ys[12] == 1.0f);
    CHECK(ys[15] == doctest::Approx(std::exp(88.5)).epsilon(1e-6));  // n = 128
  };
  check(apply<Vec>([](Vec v) { return exp(v); }, xs), false);
  check(apply<VecScalar>([](VecScalar v) { return exp(v); }, xs), false);
  check(apply<Vec>([](Vec v) { return exp_nonpositive(v); }, xs), true);
  check(apply<VecScalar>([](VecScalar v) { return exp_nonpositive(v); }, xs), true);
}

// exp_softmax, softmax's cheaper exp for x <= 0: the same 1.9e-7 bound down to
// FLT_MIN; below it a result is 0 or a denormal, never negative or above FLT_MIN.
template <class V>
void check_exp_softmax_sweep() {
  std::vector<float> xs = sweep_inputs();
  for (float x = -89.0f; x < -86.0f; x = std::nextafter(x, kInf)) xs.push_back(x);  // around the flush
  while (xs.size() % 16) xs.push_back(-1.0f);
  std::vector<float> ys = apply<V>([](V v) { return exp_softmax(v); }, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    float x = xs[i], y = ys[i];
    if (x > 0) continue;  // outside its domain
    if (std::isnan(x)) {
      CHECK(std::isnan(y));
    } else if (x < detail::kExpLo) {
      CHECK(y >= 0.0f);
      CHECK(y < std::numeric_limits<float>::min());
    } else {
      double exact = std::exp(double(x));
      worst = std::max(worst, std::fabs(double(y) - exact) / exact);
    }
  }
  CHECK(worst <= kMaxRelError);
  MESSAGE(std::string(V::name), " exp_softmax: max relative error ", worst);
}

TEST_CASE("exp_softmax matches std::exp to 1.9e-7 for x <= 0 down to FLT_MIN, native and scalar") {
  check_exp_softmax_sweep<Vec>();
  check_exp_softmax_sweep<VecScalar>();
}

TEST_CASE("exp_softmax special cases: -inf and far below -88 -> exactly 0, exp(0) = 1, NaN -> NaN") {
  std::vector<float> xs = {-kInf, -1e4f,   -88.0f, -1000.0f, 0.0f,
                           -0.0f, -1e-30f, kNaN,   -1.0f,    detail::kExpLo,
                           -0.5f, -20.0f,  -87.0f, -kNaN,    -std::numeric_limits<float>::max(),
                           -3.0f};
  auto check = [](const std::vector<float>& ys) {
    CHECK(ys[0] == 0.0f);
    CHECK(ys[1] == 0.0f);
    CHECK(ys[2] == 0.0f);
    CHECK(ys[3] == 0.0f);
    CHECK(ys[4] == 1.0f);
    CHECK(ys[5] == 1.0f);
    CHECK(ys[6] == 1.0f);
    CHECK(std::isnan(ys[7]));
    CHECK(ys[9] >= std::numeric_limits<float>::min());  // the last normal result
    CHECK(std::isnan(ys[13]));
    CHECK(ys[14] == 0.0f);
  };
  check(apply<Vec>([](Vec v) { return exp_softmax(v); }, xs));
  check(apply<VecScalar>([](VecScalar v) { return exp_softmax(v); }, xs));
}

// ------------------------------------------------- log_positive

template <class V>
void check_log_sweep() {
  std::vector<float> xs;
  for (uint64_t bits = 0x00800000; bits < 0x7f800000; bits += 997)
    xs.push_back(std::bit_cast<float>(uint32_t(bits)));
  // dense runs where the reduction switches (m = sqrt 2) and where log x -> 0
  for (float centre : {1.0f, 1.41421356237f, 2.0f, 0.70710678f}) {
    float up = centre, down = centre;
    for (int i = 0; i < 20000; ++i)
      xs.push_back(up = std::nextafter(up, kInf)), xs.push_back(down = std::nextafter(down, 0.0f));
  }
  xs.push_back(std::numeric_limits<float>::min()), xs.push_back(std::numeric_limits<float>::max());
  while (xs.size() % 16) xs.push_back(1.0f);
  std::vector<float> ys = apply<V>([](V v) { return log_positive(v); }, xs);
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    double exact = std::log(double(xs[i]));
    if (exact == 0) {
      CHECK(ys[i] == 0.0f);
      continue;
    }
    worst = std::max(worst, std::fabs(ys[i] - exact) / std::fabs(exact));
  }
  CHECK(worst <= 1e-7);  // the bound documented in vmath.h
  MESSAGE(std::string(V::name), " log_positive: max relative error ", worst);
}

TEST_CASE("log_positive matches std::log to 1e-7 for every normal x > 0, native and scalar") {
  check_log_sweep<Vec>();
  check_log_sweep<VecScalar>();
}

TEST_CASE("log_positive special cases: +inf -> inf; NaN, negatives, 0 and denormals -> NaN; log 1 = 0") {
  std::vector<float> xs = {kInf,
                           kNaN,
                           -kNaN,
                           -1.0f,
                           0.0f,
                           -0.0f,
                           std::numeric_limits<float>::denorm_min(),
                           std::nextafter(std::numeric_limits<float>::min(), 0.0f),
                           -kInf,
                           1.0f,
                           2.0f,
                           64.0f};
  xs.resize(16, 1.0f);
  auto check = [](const std::vector<float>& ys) {
    CHECK(ys[0] == kInf);
    for (int i = 1; i <= 8; ++i) CHECK(std::isnan(ys[size_t(i)]));
    CHECK(ys[9] == 0.0f);
    CHECK(ys[10] == doctest::Approx(std::log(2.0)).epsilon(1e-7));
    CHECK(ys[11] == doctest::Approx(std::log(64.0)).epsilon(1e-7));
  };
  check(apply<Vec>([](Vec v) { return log_positive(v); }, xs));
  check(apply<VecScalar>([](VecScalar v) { return log_positive(v); }, xs));
}

// ------------------------------------------------- the native back end vs scalar

// Random finite values, some of them repeated across a and b so > and == both occur.
std::vector<float> random_values(unsigned seed, float lo, float hi) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(16 * 64);
  for (float& x : v) x = dist(gen);
  return v;
}

// Every element of op over native vectors equals op over VecScalar, bit for bit.
template <class Op>
void check_same_bits(Op op, const std::vector<float>& a, const std::vector<float>& b,
                     const std::vector<float>& c) {
  for (size_t i = 0; i + Vec::width <= a.size(); i += Vec::width) {
    float out[64];
    op(Vec::load(&a[i]), Vec::load(&b[i]), Vec::load(&c[i])).store(out);
    for (int k = 0; k < Vec::width; ++k) {
      float expect = 0;
      op(VecScalar::load(&a[i + k]), VecScalar::load(&b[i + k]), VecScalar::load(&c[i + k])).store(&expect);
      CHECK(std::bit_cast<uint32_t>(out[k]) == std::bit_cast<uint32_t>(expect));
    }
  }
}

TEST_CASE("the native SIMD back end computes what the scalar back end computes") {
  MESSAGE("native back end: ", std::string(Vec::name), " (", Vec::width, " floats)");
  auto a = random_values(1, -100, 100), b = random_values(2, -100, 100), c = random_values(3, -1, 1);
  for (size_t i = 0; i < a.size(); i += 7) b[i] = a[i];  // equal pairs for max/min/select

  SUBCASE("load, store, stream and broadcast round-trip") {
    check_same_bits([](auto x, auto, auto) { return x; }, a, b, c);
    std::vector<float> out(a.size());
    for (size_t i = 0; i < a.size(); i += Vec::width) Vec::load(&a[i]).stream(&out[i]);
    store_fence();
    CHECK(out == a);
    float one[64];
    Vec::broadcast(2.5f).store(one);
    for (int k = 0; k < Vec::width; ++k) CHECK(one[k] == 2.5f);
    Vec::zero().store(one);
    for (int k = 0; k < Vec::width; ++k) CHECK(one[k] == 0.0f);
  }
  SUBCASE("load_first and store_first touch only the first count lanes") {
    for (int count = 0; count <= Vec::width; ++count) {
      CAPTURE(count);
      float lanes[64];
      Vec::load_first(&a[0], count, -7.0f).store(lanes);
      for (int k = 0; k < Vec::width; ++k) CHECK(lanes[k] == (k < count ? a[size_t(k)] : -7.0f));
      std::vector<float> out(size_t(Vec::width) + 1, 42.0f);
      Vec::load(&b[0]).store_first(out.data(), count);
      for (int k = 0; k <= Vec::width; ++k) CHECK(out[size_t(k)] == (k < count ? b[size_t(k)] : 42.0f));
    }
    for (int count : {0, 1}) {  // the scalar back end: a vector of one lane
      float one = 42.0f;
      CHECK(VecScalar::load_first(&a[0], count, -7.0f).v == (count ? a[0] : -7.0f));
      VecScalar{3.0f}.store_first(&one, count);
      CHECK(one == (count ? 3.0f : 42.0f));
    }
  }
  SUBCASE("arithmetic: + - * / and fused multiply-add round the same way") {
    check_same_bits([](auto x, auto y, auto) { return x + y; }, a, b, c);
    check_same_bits([](auto x, auto y, auto) { return x - y; }, a, b, c);
    check_same_bits([](auto x, auto y, auto) { return x * y; }, a, b, c);
    check_same_bits([](auto x, auto y, auto) { return x / y; }, a, b, c);
    check_same_bits([](auto x, auto y, auto z) { return fma(x, y, z); }, a, b, c);
  }
  SUBCASE("max and min of finite values, select_gt also with NaN") {
    check_same_bits([](auto x, auto y, auto) { return max(x, y); }, a, b, c);
    check_same_bits([](auto x, auto y, auto) { return min(x, y); }, a, b, c);
    auto with_nan = a;
    for (size_t i = 0; i < with_nan.size(); i += 5) with_nan[i] = kNaN;
    check_same_bits([](auto x, auto y, auto z) { return select_gt(x, y, z, x + z); }, with_nan, b, c);
  }
  SUBCASE("round goes to the nearest even integer, like the vector instructions") {
    std::vector<float> halves;
    for (int i = -64; i < 64 * 16 - 64; ++i) halves.push_back(i * 0.25f);  // .0 .25 .5 .75
    check_same_bits([](auto x, auto, auto) { return round(x); }, halves, halves, halves);
    check_same_bits([](auto x, auto, auto) { return round(x); }, a, b, c);
  }
  SUBCASE("pow2i builds 2^n for every n in [-126, 127]") {
    std::vector<float> n;
    for (int i = 0; i < 64 * 16; ++i) n.push_back(float(-126 + i % 254));
    check_same_bits([](auto x, auto, auto) { return pow2i(x); }, n, n, n);
    float out[64];
    pow2i(Vec::broadcast(-126)).store(out);
    CHECK(out[0] == std::numeric_limits<float>::min());
    pow2i(Vec::broadcast(127)).store(out);
    CHECK(out[0] == std::ldexp(1.0f, 127));
  }
  SUBCASE("shift_to_exponent moves the low mantissa bits into the exponent: 2^(m - 127)") {
    std::vector<float> t;
    for (int i = 0; i < 64 * 16; ++i) t.push_back(0x1.8p23f + float(i % 256));  // low bits: m = i % 256
    check_same_bits([](auto x, auto, auto) { return shift_to_exponent(x); }, t, t, t);
    check_same_bits([](auto x, auto, auto) { return shift_to_exponent(x); }, a, b, c);  // any bits
    float out[64];
    shift_to_exponent(Vec::broadcast(0x1.8p23f + 127.0f)).store(out);
    CHECK(out[0] == 1.0f);
    shift_to_exponent(Vec::broadcast(0x1.8p23f + 1.0f)).store(out);
    CHECK(out[0] == std::numeric_limits<float>::min());
    shift_to_exponent(Vec::broadcast(0x1.8p23f)).store(out);
    CHECK(out[0] == 0.0f);
  }
  SUBCASE("exp_softmax gives the same bits on both back ends") {
    auto neg = a;
    for (float& v : neg) v = -std::fabs(v);
    neg[3] = -kInf, neg[5] = 0.0f, neg[9] = -88.5f;
    check_same_bits([](auto x, auto, auto) { return exp_softmax(x); }, neg, neg, neg);
  }
  SUBCASE("exponent and mantissa split a positive normal x into 2^e * m, m in [1, 2)") {
    std::vector<float> pos;
    for (float v : a) pos.push_back(std::fabs(v) * (pos.size() % 2 ? 1e-30f : 1e30f));
    pos[0] = std::numeric_limits<float>::min(), pos[1] = std::numeric_limits<float>::max(), pos[2] = 1.0f;
    check_same_bits([](auto x, auto, auto) { return exponent(x); }, pos, pos, pos);
    check_same_bits([](auto x, auto, auto) { return mantissa(x); }, pos, pos, pos);
    for (float x : pos) {
      float e = exponent(VecScalar{x}).v, m = mantissa(VecScalar{x}).v;
      CHECK(m >= 1.0f);
      CHECK(m < 2.0f);
      CHECK(std::ldexp(m, int(e)) == x);
    }
  }
  SUBCASE("log_positive gives the same bits on both back ends") {
    auto pos = a;
    for (float& v : pos) v = std::fabs(v) + 1.0f;
    check_same_bits([](auto x, auto, auto) { return log_positive(x); }, pos, pos, pos);
  }
  SUBCASE("hsum and hmax reduce a vector") {
    for (size_t i = 0; i + Vec::width <= a.size(); i += Vec::width) {
      float sum = 0, biggest = -kInf;
      for (int k = 0; k < Vec::width; ++k) sum += a[i + k], biggest = std::max(biggest, a[i + k]);
      CHECK(hsum(Vec::load(&a[i])) == doctest::Approx(sum).epsilon(1e-5).scale(100));  // order differs
      CHECK(hmax(Vec::load(&a[i])) == biggest);
    }
  }
}

}  // namespace
template <class V>
void check_tanh_sigmoid() {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 997) {
    float x = std::bit_cast<float>(uint32_t(bits));
    if (std::fabs(x) <= 20.0f) xs.push_back(x);  // every exponent down to denormals
  }
  std::vector<float> th = apply<V>([](V v) { return tanh(v); }, xs);
  std::vector<float> sg = apply<V>([](V v) { return sigmoid(v); }, xs);
  double worst_tanh = 0, worst_sigmoid = 0;
  for (size_t i = 0; i + V::width <= xs.size(); ++i) {
    double t = std::tanh(double(xs[i])), s = 1 / (1 + std::exp(-double(xs[i])));
    if (t != 0) worst_tanh = std::max(worst_tanh, std::fabs(th[i] - t) / std::fabs(t));
    worst_sigmoid = std::max(worst_sigmoid, std::fabs(sg[i] - s) / s);
  }
  CHECK(worst_tanh <= 2.5e-7);
  CHECK(worst_sigmoid <= 2.5e-7);
  MESSAGE(std::string(V::name), ": tanh max relative error ", worst_tanh, ", sigmoid ", worst_sigmoid);
}

TEST_CASE("tanh and sigmoid match std:: to 2.5e-7 on [-20, 20], native and scalar") {
  check_tanh_sigmoid<Vec>();
  check_tanh_sigmoid<VecScalar>();
  std::vector<float> edge = {-kInf, -100.0f, 100.0f, kInf};
  edge.resize(16, 0.0f);
  std::vector<float> th = apply<Vec>([](Vec v) { return tanh(v); }, edge);
  std::vector<float> sg = apply<Vec>([](Vec v) { return sigmoid(v); }, edge);
  CHECK(th[0] == -1.0f);
  CHECK(th[3] == 1.0f);
  CHECK(sg[0] == 0.0f);
  CHECK(sg[1] == 0.0f);  // e^-100 is below FLT_MIN: flushed, as exp does
  CHECK(sg[3] == 1.0f);
}

}  // namespace heed::simd
