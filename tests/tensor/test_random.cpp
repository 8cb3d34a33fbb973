// Random numbers (tensor/random.h): one stream per seed, the same on every
// platform. The pinned values below were computed once; if they change, every
// lesson's printed losses change with them.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;

TEST_CASE("seed 42 gives these first values on every platform") {
  Generator bits(42);
  CHECK(bits.next_u32() == 79146399u);
  CHECK(bits.next_u32() == 1485350530u);
  CHECK(bits.next_u32() == 300913445u);

  Generator u(42);
  CHECK(u.uniform() == 0x1.2deb4p-6f);   // 0.01842767
  CHECK(u.uniform() == 0x1.622298p-2f);  // 0.34583509
  CHECK(u.uniform() == 0x1.1ef93p-4f);   // 0.0700618625
  CHECK(u.uniform() == 0x1.0e0254p-2f);  // 0.263680756

  Generator n(42);
  CHECK(n.normal() == -0x1.ee5d08p-3f);  // -0.241388381
  CHECK(n.normal() == -0x1.0fbb2ap-3f);  // -0.132681206
  CHECK(n.normal() == -0x1.77b75cp-2f);  // -0.366910398
  CHECK(n.normal() == -0x1.b17998p+0f);  // -1.69326162

  Generator r(42);
  CHECK(r.randint(10) == 4);
  CHECK(r.randint(10) == 7);
}

TEST_CASE("next_u64 is two next_u32 draws, the high word first") {
  Generator bits(42);
  CHECK(bits.next_u64() == (uint64_t{79146399u} << 32 | 1485350530u));
  CHECK(bits.next_u32() == 300913445u);
}

TEST_CASE("manual_seed(n) restarts the default generator as Generator(n)") {
  manual_seed(42);
  Generator same(42);
  CHECK(seed_from_default_generator() == same.next_u64());
  CHECK(seed_from_default_generator() == same.next_u64());
  CHECK(generator_from(std::nullopt).next_u32() == Generator(same.next_u64()).next_u32());
  // A given seed is used as is and leaves the default generator alone.
  CHECK(generator_from(5).next_u32() == Generator(5).next_u32());
  CHECK(seed_from_default_generator() == same.next_u64());
}

TEST_CASE("the same seed gives the same stream; another seed another") {
  Generator a(7), b(7), c(8);
  std::vector<float> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.normal());
    vb.push_back(b.normal());
    vc.push_back(c.normal());
  }
  CHECK(va == vb);
  CHECK(va != vc);
  Generator d(7), e(7);
  CHECK(equal(randn({3, 4}, d), randn({3, 4}, e)));
}

TEST_CASE("uniform is in [0, 1) with mean 1/2 and variance 1/12") {
  Generator gen(1);
  Tensor x = rand({100000}, gen);
  CHECK(amax(x).item() < 1.0f);
  CHECK(amax(-x).item() <= 0.0f);
  CHECK(mean(x).item() == doctest::Approx(0.5).epsilon(0.01));
  CHECK(var(x).item() == doctest::Approx(1.0 / 12).epsilon(0.02));
}

TEST_CASE("100k normals have mean 0 and standard deviation 1") {
  Generator gen(2);
  Tensor x = randn({100000}, gen);
  CHECK(std::fabs(mean(x).item()) < 0.01f);  // standard error 0.003
  CHECK(std::sqrt(var(x).item()) == doctest::Approx(1.0).epsilon(0.01));
  float frac_within_1 = mean(le(abs(x), scalar(1))).item();
  CHECK(frac_within_1 == doctest::Approx(0.6827).epsilon(0.01));
}

TEST_CASE("uniform(low, high) and normal(mean, std) shift and scale") {
  Generator gen(3);
  Tensor u = uniform({50000}, -2, 6, gen);
  CHECK(amax(u).item() < 6.0f);
  CHECK(amax(-u).item() <= 2.0f);
  CHECK(mean(u).item() == doctest::Approx(2.0).epsilon(0.02));
  Tensor n = normal({50000}, 5, 0.5f, gen);
  CHECK(mean(n).item() == doctest::Approx(5.0).epsilon(0.01));
  CHECK(std::sqrt(var(n).item()) == doctest::Approx(0.5).epsilon(0.02));
}

TEST_CASE("randint covers [0, n) evenly and nothing else") {
  Generator gen(4);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    int64_t k = gen.randint(7);
    REQUIRE(k >= 0);
    REQUIRE(k < 7);
    ++counts[k];
  }
  for (int c : counts) CHECK(c == doctest::Approx(10000).epsilon(0.05));
  CHECK(gen.randint(1) == 0);
  CHECK_THROWS_WITH_AS(gen.randint(0), "randint: n must be positive, got 0", Error);
}

TEST_CASE(
    "dropout's mask is a function of (seed, element): the same for the gradient, and for any thread count") {
  const int64_t n = 1 << 17;  // four threads' worth of chunks
  Tensor x = ones({n});
  Tensor y = dropout(x, 0.25f, /*seed=*/7);
  int64_t kept = 0, wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool keep = dropout_uniform(7, uint64_t(i)) >= 0.25f;
    wrong += y.data()[i] != (keep ? 1.0f / 0.75f : 0.0f);
    kept += keep;
  }
  CHECK(wrong == 0);
  // A fair hash keeps 3/4 of 131072 elements, give or take sqrt(n p (1-p)) = 157.
  CHECK(std::abs(double(kept) / double(n) - 0.75) < 0.005);

  // Another tensor of the same shape loses the same elements (the backward's rule).
  Tensor g = full({n}, 2.0f);
  Tensor dg = dropout(g, 0.25f, 7);
  for (int64_t i = 0; i < n; i += 97) CHECK(dg.data()[i] == 2.0f * y.data()[i]);

  int saved = num_threads();
  set_num_threads(1);
  Tensor one_thread = dropout(x, 0.25f, 7);
  set_num_threads(saved);
  CHECK(equal(one_thread, y));
  CHECK_FALSE(equal(dropout(x, 0.25f, 8), y));  // another seed, another mask
}

TEST_CASE(
    "dropout reads a strided view in row-major order, and keeps everything at p = 0, nothing at p = 1") {
  Tensor x = reshape(arange(0, 12), {3, 4});
  Tensor t = transpose(x, 0, 1);  // (4, 3), not contiguous
  CHECK(equal(dropout(t, 0.5f, 3), dropout(contiguous(t), 0.5f, 3)));
  CHECK(equal(dropout(x, 0.0f, 3), x));
  CHECK(equal(dropout(x, 1.0f, 3), zeros({3, 4})));
  CHECK(dropout(empty({0, 4}), 0.5f, 3).numel() == 0);
  CHECK_THROWS_WITH_AS(dropout(x, -0.1f, 3), "dropout: p must be in [0, 1], got -0.1", Error);
}
