// Lesson 03's exercises, each held to a naive twin written here on odd sizes
// (1, 3, 17, 63, 65) and shapes far from square. Buffers carry a tail of
// sentinels, so a kernel that writes past its output fails too.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/03_kernels/exercises.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// -0: even a stray `+= 0` past the end shows, since -0 + 0 is +0.
constexpr float kSentinel = -0.0f;
constexpr int kTail = 37;  // sentinels after every output

std::vector<float> normals(int64_t count, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = gen.normal();
  return v;
}

// The first `count` floats of v as a tensor of `shape`, for expect_close's report.
Tensor as_tensor(const std::vector<float>& v, int64_t count, const Shape& shape) {
  return from_vector(std::vector<float>(v.begin(), v.begin() + count), shape);
}

bool tail_intact(const std::vector<float>& v, int64_t count) {
  for (size_t i = size_t(count); i < v.size(); ++i)
    if (std::memcmp(&v[i], &kSentinel, sizeof(float)) != 0) return false;
  return true;
}

std::string describe(const char* what, std::initializer_list<int64_t> sizes) {
  std::ostringstream out;
  out << what;
  for (int64_t s : sizes) out << " " << s;
  return out.str();
}

// c (m, n) = a (m, k) · b (k, n), one dot product per element, in double.
std::vector<float> naive_matmul(const std::vector<float>& a, const std::vector<float>& b, int64_t m,
                                int64_t k, int64_t n) {
  std::vector<float> c(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += double(a[size_t(i * k + p)]) * b[size_t(p * n + j)];
      c[size_t(i * n + j)] = float(s);
    }
  return c;
}

}  // namespace

TEST_CASE("lesson 03, exercise 1: a cache-blocked matmul") {
  struct Case {
    int64_t m, k, n;
  };
  std::vector<Case> cases;
  for (int64_t s : {1, 3, 17, 63, 65}) cases.push_back({s, s, s});
  for (Case c : {Case{65, 17, 3}, Case{3, 65, 63}, Case{17, 1, 65}, Case{1, 63, 17}, Case{63, 3, 1},
                 Case{130, 70, 33}})
    cases.push_back(c);
  const lesson03::Blocks block_sets[] = {{},
                                         {.mc = 8, .kc = 16, .nc = 32},
                                         {.mc = 5, .kc = 7, .nc = 9},
                                         {.mc = 1, .kc = 1, .nc = 1},
                                         {.mc = 64, .kc = 3, .nc = 16}};
  uint64_t seed = 1;
  for (Case s : cases)
    for (lesson03::Blocks blocks : block_sets) {
      const std::vector<float> a = normals(s.m * s.k, seed++), b = normals(s.k * s.n, seed++);
      std::vector<float> c(size_t(s.m * s.n + kTail), kSentinel);
      std::fill_n(c.begin(), s.m * s.n, NAN);  // C's garbage on entry: it must be overwritten
      lesson03::matmul_blocked(a.data(), b.data(), c.data(), s.m, s.k, s.n, blocks);
      const std::string input = describe("m k n", {s.m, s.k, s.n}) +
                                describe(", blocks mc kc nc", {blocks.mc, blocks.kc, blocks.nc});
      testing::expect_close(3, 1, input, as_tensor(naive_matmul(a, b, s.m, s.k, s.n), s.m * s.n, {s.m, s.n}),
                            as_tensor(c, s.m * s.n, {s.m, s.n}), 1e-5);
      testing::expect_true(3, 1, input, tail_intact(c, s.m * s.n), "wrote past the end of c");
    }
}

TEST_CASE("lesson 03, exercise 2: a 4 x 16 micro-kernel with edge tiles") {
  constexpr int MR = lesson03::kTileRows, NR = lesson03::kTileCols;
  constexpr int64_t ldc = 21;  // wider than the tile: C's floats beyond it belong to other tiles
  uint64_t seed = 200;
  for (int64_t kc : {1, 3, 17, 63, 65})
    for (int rows : {1, 2, 3, 4})
      for (int cols : {1, 3, 15, 16}) {
        // Packed panels; the lanes past rows and cols hold NaN, which must not reach C.
        std::vector<float> a = normals(kc * MR, seed++), b = normals(kc * NR, seed++);
        for (int64_t p = 0; p < kc; ++p) {
          for (int i = rows; i < MR; ++i) a[size_t(p * MR + i)] = NAN;
          for (int j = cols; j < NR; ++j) b[size_t(p * NR + j)] = NAN;
        }
        // C: MR + 1 rows of ldc floats, the tile's rows x cols corner random, the rest sentinels.
        const std::vector<float> start = normals(MR * NR, seed++);
        std::vector<float> c(size_t((MR + 1) * ldc), kSentinel);
        std::vector<float> expected(size_t(rows * cols)), corner(size_t(rows * cols));
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) {
            c[size_t(i * ldc + j)] = start[size_t(i * NR + j)];
            double s = start[size_t(i * NR + j)];
            for (int64_t p = 0; p < kc; ++p) s += double(a[size_t(p * MR + i)]) * b[size_t(p * NR + j)];
            expected[size_t(i * cols + j)] = float(s);
          }
        lesson03::micro_kernel_4x16(kc, a.data(), b.data(), c.data(), ldc, rows, cols);
        bool untouched = true;
        for (int64_t i = 0; i <= MR; ++i)
          for (int64_t j = 0; j < ldc; ++j) {
            const float v = c[size_t(i * ldc + j)];
            if (i < rows && j < cols)
              corner[size_t(i * cols + j)] = v;
            else if (std::memcmp(&v, &kSentinel, sizeof v) != 0)
              untouched = false;
          }
        const std::string input = describe("kc rows cols", {kc, rows, cols});
        testing::expect_close(3, 2, input, as_tensor(expected, rows * cols, {rows, cols}),
                              as_tensor(corner, rows * cols, {rows, cols}), 1e-5);
        testing::expect_true(3, 2, input, untouched, "wrote to C outside the rows x cols corner of the tile");
      }
}

TEST_CASE("lesson 03, exercise 3: a packed matmul of any shape") {
  struct Case {
    int64_t m, k, n;
  };
  std::vector<Case> cases;
  for (int64_t s : {1, 3, 17, 63, 65}) cases.push_back({s, s, s});
  // Several k blocks, several B blocks, several A blocks, and edge tiles in both directions.
  for (Case c : {Case{65, 300, 33}, Case{130, 17, 270}, Case{1, 65, 300}, Case{300, 1, 1}, Case{5, 513, 7},
                 Case{3, 63, 1}})
    cases.push_back(c);
  uint64_t seed = 400;
  for (Case s : cases) {
    const std::vector<float> a = normals(s.m * s.k, seed++), b = normals(s.k * s.n, seed++);
    std::vector<float> c(size_t(s.m * s.n + kTail), kSentinel);
    std::fill_n(c.begin(), s.m * s.n, NAN);
    lesson03::matmul_packed(a.data(), b.data(), c.data(), s.m, s.k, s.n);
    const std::string input = describe("m k n", {s.m, s.k, s.n});
    testing::expect_close(3, 3, input, as_tensor(naive_matmul(a, b, s.m, s.k, s.n), s.m * s.n, {s.m, s.n}),
                          as_tensor(c, s.m * s.n, {s.m, s.n}), 1e-5);
    testing::expect_true(3, 3, input, tail_intact(c, s.m * s.n), "wrote past the end of c");
  }
}

TEST_CASE("lesson 03, exercise 4: the online softmax of a row") {
  std::vector<std::pair<std::string, std::vector<float>>> rows = {{"[1000, 1000]", {1000, 1000}},
                                                                  {"[-1000, -1000]", {-1000, -1000}},
                                                                  {"[1000, -1000, 0]", {1000, -1000, 0}}};
  uint64_t seed = 300;
  for (int64_t n : {1, 3, 17, 63, 65}) {
    std::vector<float> x = normals(n, seed++);
    for (float& v : x) v *= 4;
    rows.push_back({describe("normal * 4, n", {n}), x});
    for (float& v : x) v += 1000;
    rows.push_back({describe("normal * 4 + 1000, n", {n}), x});
    std::vector<float> rising(static_cast<size_t>(n)), falling(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j)
      rising[size_t(j)] = 30.0f * float(j), falling[size_t(j)] = -30.0f * float(j);
    rows.push_back({describe("rising by 30 (a new max every step), n", {n}), rising});
    rows.push_back({describe("falling by 30, n", {n}), falling});
  }
  for (const auto& [name, x] : rows) {
    const auto n = int64_t(x.size());
    double m = x[0], s = 0;
    for (float v : x) m = std::max(m, double(v));
    for (float v : x) s += std::exp(double(v) - m);
    std::vector<float> expected(x.size()), y(x.size() + kTail, kSentinel);
    for (size_t j = 0; j < x.size(); ++j) expected[j] = float(std::exp(double(x[j]) - m) / s);
    lesson03::softmax_row_online(x.data(), y.data(), n);
    testing::expect_close(3, 4, name, as_tensor(expected, n, {n}), as_tensor(y, n, {n}), 1e-5);
    testing::expect_true(3, 4, name, tail_intact(y, n), "wrote past the end of y");
  }
}
