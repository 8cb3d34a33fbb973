// Built with -ffp-contract=off (see CMakeLists.txt): no fused multiply-add may
// change a rounding here, or the streams would differ between machines.
#include "tensor/random.h"

#include <cmath>
#include <mutex>

#include "tensor/kernels/dropout_hash.h"
#include "tensor/kernels/parallel.h"

namespace heed {
namespace {

// Natural log of x > 0 in double precision from +, *, / only:
// x = m * 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(z), z = (m-1)/(m+1).
double portable_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m *= 2.0;
    e -= 1;
  }
  double z = (m - 1.0) / (m + 1.0), z2 = z * z, term = z, series = 0.0;
  for (int k = 1; k < 40; k += 2) {  // |z| < 0.172: 20 terms reach double precision
    series += term / k;
    term *= z2;
  }
  return 2.0 * series + e * 0.69314718055994531;
}

}  // namespace

Generator::Generator(uint64_t seed) : state_(0) {
  next_u32();
  state_ += seed + 0x853c49e6748fea9bULL;
  next_u32();
}

uint32_t Generator::next_u32() {
  uint64_t old = state_;
  state_ = old * 6364136223846793005ULL + 1442695040888963407ULL;
  uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

uint64_t Generator::next_u64() {
  uint64_t high = next_u32();  // two statements: the draws must happen in this order
  return (high << 32) | next_u32();
}

namespace {
struct DefaultGenerator {
  std::mutex mutex;
  Generator gen{0};  // guarded by mutex
};
// A function-local static: ready even for a layer built during static initialization.
DefaultGenerator& default_generator() {
  static DefaultGenerator instance;
  return instance;
}
}  // namespace

void manual_seed(uint64_t seed) {
  DefaultGenerator& d = default_generator();
  std::lock_guard lock(d.mutex);
  d.gen = Generator(seed);
}

uint64_t seed_from_default_generator() {
  DefaultGenerator& d = default_generator();
  std::lock_guard lock(d.mutex);
  return d.gen.next_u64();
}

Generator generator_from(std::optional<uint64_t> seed) {
  return Generator(seed ? *seed : seed_from_default_generator());
}

float Generator::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

float Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * (next_u32() * (1.0 / 4294967296.0)) - 1.0;
    v = 2.0 * (next_u32() * (1.0 / 4294967296.0)) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = std::sqrt(-2.0 * portable_log(s) / s);
  spare_ = static_cast<float>(v * f);
  has_spare_ = true;
  return static_cast<float>(u * f);
}

int64_t Generator::randint(int64_t n) {
  HEED_CHECK(n > 0, "randint: n must be positive, got ", n);
  uint64_t wide = (static_cast<uint64_t>(next_u32()) << 32) | next_u32();
  return static_cast<int64_t>(wide % static_cast<uint64_t>(n));
}

namespace {
template <class Draw>
Tensor fill_with(const char* op, const Shape& shape, Draw draw) {
  Tensor t = detail::empty_for(op, shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = draw();
  return t;
}
}  // namespace

Tensor rand(const Shape& shape, Generator& gen) {
  return fill_with("rand", shape, [&] { return gen.uniform(); });
}
Tensor randn(const Shape& shape, Generator& gen) {
  return fill_with("randn", shape, [&] { return gen.normal(); });
}
Tensor uniform(const Shape& shape, float low, float high, Generator& gen) {
  return fill_with("uniform", shape, [&] { return low + (high - low) * gen.uniform(); });
}
Tensor normal(const Shape& shape, float mean, float stddev, Generator& gen) {
  return fill_with("normal", shape, [&] { return mean + stddev * gen.normal(); });
}

namespace {
// Shared with the kernels that drop inside a fused loop (tensor/kernels/dropout_hash.h).
using kernels::dropout_hash_uniform;
}  // namespace

float dropout_uniform(uint64_t seed, uint64_t i) {
  return dropout_hash_uniform(uint32_t(seed), uint32_t(seed >> 32), i);
}

namespace {
// Elements [begin, end). Its own function with everything in arguments, so the
// loop vectorizes on every thread: read through the closure of an OpenMP
// region, p and the seed could alias dst and were reloaded per element, scalar: on
// two threads the worker spent 26% of a Transformer step in this loop, 3% now.
void dropout_span(const float* __restrict src, float* __restrict dst, int64_t begin, int64_t end, float p,
                  float scale, uint32_t s0, uint32_t s1) {
  for (int64_t i = begin; i < end; ++i)
    dst[i] = dropout_hash_uniform(s0, s1, uint64_t(i)) >= p ? src[i] * scale : 0.0f;
}
// The same over x in place (no __restrict pair to promise).
void dropout_span_(float* __restrict x, int64_t begin, int64_t end, float p, float scale, uint32_t s0,
                   uint32_t s1) {
  for (int64_t i = begin; i < end; ++i)
    x[i] = dropout_hash_uniform(s0, s1, uint64_t(i)) >= p ? x[i] * scale : 0.0f;
}
}  // namespace

Tensor dropout(const Tensor& x, float p, uint64_t seed) {
  HEED_CHECK(p >= 0.0f && p <= 1.0f, "dropout: p must be in [0, 1], got ", p);
  Tensor in = contiguous(x);
  Tensor y = detail::empty_for("dropout", x.shape());
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  const float* src = in.data();
  float* dst = y.data();
  kernels::parallel_for(y.numel(), 1 << 15, [=](int64_t begin, int64_t end) {
    dropout_span(src, dst, begin, end, p, scale, uint32_t(seed), uint32_t(seed >> 32));
  });
  return y;
}

void dropout_(const Tensor& x, float p, uint64_t seed) {
  HEED_CHECK(p >= 0.0f && p <= 1.0f, "dropout_: p must be in [0, 1], got ", p);
  detail::begin_inplace(x, "dropout_");
  HEED_CHECK(x.is_contiguous(), "dropout_: the tensor of shape ", x.shape(), " must be contiguous");
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  float* data = x.data();
  kernels::parallel_for(x.numel(), 1 << 15, [=](int64_t begin, int64_t end) {
    dropout_span_(data, begin, end, p, scale, uint32_t(seed), uint32_t(seed >> 32));
  });
}

}  // namespace heed
