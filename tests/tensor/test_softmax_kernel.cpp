// The fused softmax kernels against their naive twins, on the shapes and values
// that break softmax implementations.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/softmax.h"

namespace heed::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Rows of up to 64 floats are held in registers (AVX2): 8, 24 and 64 as whole
// vectors, 1, 3, 17 and 63 with a partial last one.
const int64_t kSizes[] = {0, 1, 3, 8, 17, 24, 63, 64, 65, 127, 129, 4096};
const int64_t kRowCounts[] = {0, 1, 2, 7};

using Rows = void (*)(const float*, float*, int64_t, int64_t);
using MaskedRows = void (*)(const float*, const float*, float*, int64_t, int64_t);

std::vector<float> random_logits(int64_t count, float scale, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> x(static_cast<size_t>(count));
  for (float& v : x) v = dist(gen);
  return x;
}

// About 1/3 hidden, and whole rows hidden every so often.
std::vector<float> random_mask(int64_t rows, int64_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<float> mask(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) mask[r * n + j] = (r % 3 == 2 || gen() % 3 == 0) ? 1.0f : 0.0f;
  return mask;
}

// Agreement to a few float roundings: exp is good to 2 ulp, and the sums are
// added in a different order.
void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i])) {
      CHECK(got[i] == want[i]);
      continue;
    }
    CHECK(std::fabs(got[i] - want[i]) <= 4e-6 * std::fabs(want[i]) + 1e-6);
  }
}

void check_rows_sum_to_one(const std::vector<float>& y, int64_t rows, int64_t n) {
  if (n == 0) return;  // an empty row has nothing to sum
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += y[r * n + j];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("softmax and log_softmax match their naive twins for every row length") {
  for (int64_t n : kSizes)
    for (int64_t rows : kRowCounts)
      for (float scale : {1.0f, 30.0f}) {
        CAPTURE(n);
        CAPTURE(rows);
        auto x = random_logits(rows * n, scale, unsigned(n * 31 + rows));
        std::vector<float> y(x.size()), want(x.size());
        softmax_rows(x.data(), y.data(), rows, n);
        softmax_rows_naive(x.data(), want.data(), rows, n);
        check_close(y, want);
        check_rows_sum_to_one(y, rows, n);

        log_softmax_rows(x.data(), y.data(), rows, n);
        log_softmax_rows_naive(x.data(), want.data(), rows, n);
        check_close(y, want);
      }
}

TEST_CASE("cross-entropy's row statistics give log_softmax to the bit, and softmax from them") {
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{17}, int64_t{63}, int64_t{65}, int64_t{129},
                    int64_t{1000}, int64_t{4096}})
    for (int64_t rows : {int64_t{1}, int64_t{7}, int64_t{40}})
      for (float scale : {1.0f, 30.0f, 1e4f}) {
        CAPTURE(n);
        CAPTURE(rows);
        CAPTURE(scale);
        auto x = random_logits(rows * n, scale, unsigned(n * 7 + rows));
        std::vector<float> lsm(x.size()), m(static_cast<size_t>(rows)), l(static_cast<size_t>(rows)),
            y(x.size()), want(x.size());
        log_softmax_rows(x.data(), lsm.data(), rows, n);
        log_softmax_stats_rows(x.data(), m.data(), l.data(), rows, n);
        int wrong = 0;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t j = 0; j < n; ++j) wrong += (x[r * n + j] - m[r]) - l[r] != lsm[r * n + j];
        CHECK(wrong == 0);
        softmax_from_stats_rows(x.data(), m.data(), l.data(), y.data(), rows, n);
        softmax_rows_naive(x.data(), want.data(), rows, n);
        check_close(y, want);
        softmax_from_stats_rows(x.data(), m.data(), l.data(), x.data(), rows, n);  // in place
        CHECK(x == y);
      }
}

TEST_CASE("the vector kernels match the same kernels on the scalar back end") {
  const int64_t rows = 5;
  for (int64_t n : kSizes) {
    CAPTURE(n);
    auto x = random_logits(rows * n, 8.0f, unsigned(n));
    auto mask = random_mask(rows, n, unsigned(n));
    std::vector<float> y(x.size()), want(x.size());
    softmax_rows(x.data(), y.data(), rows, n);
    softmax_rows_scalar(x.data(), want.data(), rows, n);
    check_close(y, want);
    log_softmax_rows(x.data(), y.data(), rows, n);
    log_softmax_rows_scalar(x.data(), want.data(), rows, n);
    check_close(y, want);
    masked_softmax_rows(x.data(), mask.data(), y.data(), rows, n);
    masked_softmax_rows_scalar(x.data(), mask.data(), want.data(), rows, n);
    check_close(y, want);
  }
}

TEST_CASE("softmax of logits of +-1e4 is exact, not inf/inf") {
  std::vector<float> x = {1e4f, -1e4f, 1e4f, 0.0f, 1e4f - 1.0f};
  std::vector<float> y(x.size()), want(x.size());
  softmax_rows(x.data(), y.data(), 1, 5);
  softmax_rows_naive(x.data(), want.data(), 1, 5);
  check_close(y, want);
  double e = std::exp(-1.0);
  CHECK(y[0] == doctest::Approx(1 / (2 + e)));
  CHECK(y[1] == 0.0f);
  CHECK(y[4] == doctest::Approx(e / (2 + e)));
  log_softmax_rows(x.data(), y.data(), 1, 5);
  CHECK(y[0] == doctest::Approx(-std::log(2 + e)));
  CHECK(y[1] == doctest::Approx(-2e4 - std::log(2 + e)));
  CHECK(y[4] == doctest::Approx(-1 - std::log(2 + e)));
}

TEST_CASE("-inf logits get probability 0 and log-probability -inf") {
  for (int64_t n : {3, 17, 129}) {
    auto x = random_logits(2 * n, 5.0f, 7);
    for (int64_t j = 0; j < 2 * n; j += 3) x[j] = -kInf;
    std::vector<float> y(x.size()), want(x.size());
    softmax_rows(x.data(), y.data(), 2, n);
    softmax_rows_naive(x.data(), want.data(), 2, n);
    check_close(y, want);
    check_rows_sum_to_one(y, 2, n);
    for (int64_t j = 0; j < 2 * n; j += 3) CHECK(y[j] == 0.0f);
    log_softmax_rows(x.data(), y.data(), 2, n);
    for (int64_t j = 0; j < 2 * n; j += 3) CHECK(y[j] == -kInf);
  }
}

TEST_CASE("masked softmax matches its naive twin; hidden entries are exactly 0") {
  for (int64_t n : kSizes)
    for (int64_t rows : {1, 3, 6}) {
      CAPTURE(n);
      CAPTURE(rows);
      auto x = random_logits(rows * n, 10.0f, unsigned(n + rows));
      auto mask = random_mask(rows, n, unsigned(n * rows));
      std::vector<float> y(x.size()), want(x.size());
      masked_softmax_rows(x.data(), mask.data(), y.data(), rows, n);
      masked_softmax_rows_naive(x.data(), mask.data(), want.data(), rows, n);
      check_close(y, want);
      for (size_t i = 0; i < y.size(); ++i)
        if (mask[i] != 0.0f) CHECK(y[i] == 0.0f);
    }
}

TEST_CASE("masked softmax of a fully masked row is zeros, not NaN") {
  for (int64_t n : {1, 8, 67}) {
    auto x = random_logits(2 * n, 3.0f, 3);
    std::vector<float> mask(static_cast<size_t>(2 * n), 0.0f);
    for (int64_t j = 0; j < n; ++j) mask[j] = 1.0f;  // row 0 hidden (any non-zero hides: try -2)
    mask[0] = -2.0f;
    std::vector<float> y(x.size(), 42.0f), naive(x.size(), 42.0f);
    masked_softmax_rows(x.data(), mask.data(), y.data(), 2, n);
    masked_softmax_rows_naive(x.data(), mask.data(), naive.data(), 2, n);
    for (int64_t j = 0; j < n; ++j) {
      CHECK(y[j] == 0.0f);
      CHECK(naive[j] == 0.0f);
    }
    std::vector<float> row1(n);
    softmax_rows(x.data() + n, row1.data(), 1, n);  // row 1 is all visible
    for (int64_t j = 0; j < n; ++j) CHECK(y[n + j] == row1[j]);
  }
}

TEST_CASE("softmax of an unmasked row of all -inf is NaN, as the formula says") {
  std::vector<float> x(9, -kInf), y(9), want(9);
  softmax_rows(x.data(), y.data(), 1, 9);
  softmax_rows_naive(x.data(), want.data(), 1, 9);
  for (int j = 0; j < 9; ++j) {
    CHECK(std::isnan(y[j]));
    CHECK(std::isnan(want[j]));
  }
}

TEST_CASE("empty inputs (no rows, or rows of length 0) write nothing") {
  std::vector<float> x(4, 1.0f), y(4, 42.0f);
  softmax_rows(x.data(), y.data(), 0, 4);
  log_softmax_rows(x.data(), y.data(), 4, 0);
  masked_softmax_rows(x.data(), x.data(), y.data(), 0, 0);
  CHECK(y == std::vector<float>(4, 42.0f));
}

TEST_CASE("short rows, in groups or in registers, match the naive twins on the streaming path too") {
  // >= 8 MiB: rows of whole vectors stream; 8195 rows leave a partial group of
  // 4. Rows of 257 floats go in groups, 256 too with AVX2 (in registers with
  // AVX-512); 64, 24 and 17 (a partial last vector) are held in registers.
  for (int64_t n : {257, 256, 64, 24, 17}) {
    CAPTURE(n);
    const int64_t rows = 8195 * 256 / n;
    auto x = random_logits(rows * n, 10.0f, 5);
    for (int64_t i = 0; i < rows * n; i += 97) x[size_t(i)] = -kInf;
    auto mask = random_mask(rows, n, 6);
    std::vector<float> y(x.size()), want(x.size());
    softmax_rows(x.data(), y.data(), rows, n);
    softmax_rows_naive(x.data(), want.data(), rows, n);
    check_close(y, want);
    log_softmax_rows(x.data(), y.data(), rows, n);
    log_softmax_rows_naive(x.data(), want.data(), rows, n);
    check_close(y, want);
    masked_softmax_rows(x.data(), mask.data(), y.data(), rows, n);
    masked_softmax_rows_naive(x.data(), mask.data(), want.data(), rows, n);
    check_close(y, want);
  }
}

TEST_CASE("results are bitwise identical for 1, 2 and 3 threads") {
  int saved = num_threads();
  // 600 x 4096, 8195 x 256 and 32771 x 64 floats are big enough for streaming
  // stores, 333 x 65 is not; rows of 65 and 256 floats go a group of 4 at a
  // time, rows of up to 64 in registers.
  for (auto shape : std::initializer_list<std::pair<int64_t, int64_t>>{
           {600, 4096}, {333, 65}, {1000, 7}, {8195, 256}, {32771, 64}, {3001, 17}}) {
    int64_t rows = shape.first, n = shape.second;
    CAPTURE(n);
    auto x = random_logits(rows * n, 6.0f, 11);
    auto mask = random_mask(rows, n, 12);
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      std::vector<float> y(x.size()), l(x.size()), m(x.size());
      softmax_rows(x.data(), y.data(), rows, n);
      log_softmax_rows(x.data(), l.data(), rows, n);
      masked_softmax_rows(x.data(), mask.data(), m.data(), rows, n);
      y.insert(y.end(), l.begin(), l.end());
      y.insert(y.end(), m.begin(), m.end());
      results.push_back(y);
    }
    for (size_t t = 1; t < results.size(); ++t)
      CHECK(std::memcmp(results[0].data(), results[t].data(), results[0].size() * sizeof(float)) == 0);
  }
  set_num_threads(saved);
}

}  // namespace
}  // namespace heed::kernels
