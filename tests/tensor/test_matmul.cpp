// matmul: numpy.matmul semantics, checked against a plain triple loop.
#include <doctest/doctest.h>

#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;

namespace {

// numpy.matmul by definition, in double: promote vectors, broadcast the batch,
// sum over k, drop the promoted dims.
Tensor naive_matmul(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in.dim() == 1 ? unsqueeze(a_in, 0) : a_in;
  Tensor b = b_in.dim() == 1 ? unsqueeze(b_in, 1) : b_in;
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape a_batch = a.shape(), b_batch = b.shape();
  a_batch.pop_back(), a_batch.pop_back(), b_batch.pop_back(), b_batch.pop_back();
  Shape batch = broadcast_shapes(a_batch, b_batch, "naive");
  Shape a_full = batch, b_full = batch, out_shape = batch;
  a_full.push_back(m), a_full.push_back(k);
  b_full.push_back(k), b_full.push_back(n);
  out_shape.push_back(m), out_shape.push_back(n);
  std::vector<float> av = expand(a, a_full).to_vector(), bv = expand(b, b_full).to_vector();
  std::vector<float> out(static_cast<size_t>(out_shape.numel()));
  for (int64_t t = 0; t < batch.numel(); ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t p = 0; p < k; ++p) s += double(av[(t * m + i) * k + p]) * bv[(t * k + p) * n + j];
        out[(t * m + i) * n + j] = static_cast<float>(s);
      }
  Shape final_shape = batch;
  if (a_in.dim() > 1) final_shape.push_back(m);
  if (b_in.dim() > 1) final_shape.push_back(n);
  return from_vector(out, final_shape);
}

// float32 sums of up to ~130 products of N(0, 1) values against double ones.
bool matches_naive(const Tensor& a, const Tensor& b) {
  return allclose(matmul(a, b), naive_matmul(a, b), 1e-4f, 1e-4f);
}

size_t buffers_acquired() {
  kernels::PoolStats s = kernels::pool_stats();
  return s.hits + s.misses;
}

}  // namespace

TEST_CASE("matmul of 2-D matrices matches a naive triple loop at odd sizes") {
  Generator gen(1);
  const int64_t sizes[] = {1, 3, 17, 63, 65, 129};
  for (int64_t m : sizes)
    for (int64_t k : sizes)
      for (int64_t n : sizes) {
        Tensor a = randn({m, k}, gen), b = randn({k, n}, gen);
        CAPTURE(m);
        CAPTURE(k);
        CAPTURE(n);
        CHECK(matches_naive(a, b));
      }
}

TEST_CASE("matmul of a 2x3 and a 3x2 matrix gives the textbook answer") {
  Tensor a{{1, 2, 3}, {4, 5, 6}};
  Tensor b{{7, 8}, {9, 10}, {11, 12}};
  CHECK(equal(matmul(a, b), Tensor{{58, 64}, {139, 154}}));
}

TEST_CASE("matmul of two vectors is a 0-dim dot product") {
  Tensor d = matmul(Tensor{1, 2, 3}, Tensor{4, 5, 6});
  CHECK(d.dim() == 0);
  CHECK(d.item() == 32.0f);
}

TEST_CASE("matmul promotes a 1-D operand to a matrix and removes the added dim") {
  Generator gen(2);
  Tensor v = randn({5}, gen);
  Tensor m = randn({5, 7}, gen), mt = randn({3, 5}, gen), batch = randn({2, 5, 4}, gen),
         batch_t = randn({2, 3, 5}, gen);
  CHECK(matmul(v, m).shape() == Shape{7});
  CHECK(matmul(mt, v).shape() == Shape{3});
  CHECK(matmul(v, batch).shape() == Shape{2, 4});
  CHECK(matmul(batch_t, v).shape() == Shape{2, 3});
  CHECK(matches_naive(v, m));
  CHECK(matches_naive(mt, v));
  CHECK(matches_naive(v, batch));
  CHECK(matches_naive(batch_t, v));
}

TEST_CASE("matmul broadcasts batch dims like numpy") {
  Generator gen(3);
  SUBCASE("(2, 1, 3, 4) @ (5, 4, 6) -> (2, 5, 3, 6)") {
    Tensor a = randn({2, 1, 3, 4}, gen), b = randn({5, 4, 6}, gen);
    CHECK(matmul(a, b).shape() == Shape{2, 5, 3, 6});
    CHECK(matches_naive(a, b));
  }
  SUBCASE("a matrix against a batch repeats the matrix") {
    Tensor a = randn({3, 4}, gen), b = randn({2, 4, 5}, gen);
    CHECK(matmul(a, b).shape() == Shape{2, 3, 5});
    CHECK(matches_naive(a, b));
  }
  SUBCASE("a batch against a weight matrix, as in a linear layer: (B, T, D) @ (D, N)") {
    Tensor x = randn({4, 17, 33}, gen), w = randn({33, 65}, gen);
    CHECK(matmul(x, w).shape() == Shape{4, 17, 65});
    CHECK(matches_naive(x, w));
    CHECK(matches_naive(x, randn({1, 33, 65}, gen)));
  }
  SUBCASE("batched heads: (B, H, T, Dh) @ (B, H, Dh, S)") {
    Tensor q = randn({2, 3, 9, 8}, gen), k = randn({2, 3, 8, 11}, gen);
    CHECK(matches_naive(q, k));
  }
}

TEST_CASE("matmul of a transposed view passes the transpose to the kernel, not a copy") {
  Generator gen(4);
  Tensor q = randn({2, 3, 17, 8}, gen), k = randn({2, 3, 19, 8}, gen);
  Tensor kt = transpose(k, -2, -1);  // (2, 3, 8, 19), stride(-2) == 1
  size_t before = buffers_acquired();
  Tensor scores = matmul(q, kt);
  CHECK(buffers_acquired() - before == 1);  // the result, nothing else
  CHECK(allclose(scores, naive_matmul(q, kt), 1e-4f, 1e-4f));

  Tensor a = randn({65, 17}, gen), b = randn({63, 65}, gen);
  before = buffers_acquired();
  Tensor c = matmul(transpose(a, 0, 1), transpose(b, 0, 1));  // Aᵀ·Bᵀ: (17, 65)·(65, 63)
  CHECK(buffers_acquired() - before == 1);
  CHECK(matches_naive(transpose(a, 0, 1), transpose(b, 0, 1)));
}

TEST_CASE("matmul reads sliced, strided, permuted and expanded operands") {
  Generator gen(5);
  Tensor big = randn({40, 50}, gen);
  SUBCASE("a block of a larger matrix: stride(-2) is the big matrix's row") {
    Tensor a = slice(slice(big, 0, 3, 20), 1, 4, 33);  // (17, 29), strides (50, 1)
    Tensor b = slice(slice(big, 0, 5, 34), 1, 7, 36);  // (29, 29)
    CHECK(matches_naive(a, b));
    CHECK(matches_naive(a, transpose(b, 0, 1)));
  }
  SUBCASE("every other column: neither inner stride is 1") {
    Tensor a = slice(big, 1, 0, 50, 2);  // (40, 25), strides (50, 2)
    CHECK(matches_naive(a, randn({25, 3}, gen)));
    CHECK(matches_naive(randn({6, 40}, gen), a));
  }
  SUBCASE("permuted batch dims") {
    Tensor a = permute(randn({5, 2, 3, 4}, gen), {1, 0, 2, 3});  // (2, 5, 3, 4)
    Tensor w = randn({4, 6}, gen);
    CHECK(matches_naive(a, w));
    CHECK(matches_naive(a, randn({2, 5, 4, 6}, gen)));
  }
  SUBCASE("an expanded operand with zero strides") {
    Tensor row = expand(randn({1, 1, 4}, gen), {3, 5, 4});
    CHECK(matches_naive(row, randn({3, 4, 2}, gen)));
    CHECK(matches_naive(row, randn({4, 2}, gen)));
  }
}

TEST_CASE("matmul with a size-0 dim gives an empty result, or zeros when k is 0") {
  Generator gen(6);
  CHECK(matmul(randn({0, 3}, gen), randn({3, 4}, gen)).shape() == Shape{0, 4});
  CHECK(matmul(randn({2, 0, 3}, gen), randn({3, 4}, gen)).shape() == Shape{2, 0, 4});
  CHECK(matmul(randn({0, 2, 3}, gen), randn({5, 1, 3, 4}, gen)).shape() == Shape{5, 0, 2, 4});
  CHECK(equal(matmul(randn({3, 0}, gen), randn({0, 4}, gen)), zeros({3, 4})));
  CHECK(equal(matmul(randn({0}, gen), randn({0}, gen)), scalar(0.0f)));
}

TEST_CASE("matmul gives bitwise identical results for 1 and 2 threads") {
  Generator gen(7);
  const int saved = num_threads();
  Tensor a = randn({129, 257}, gen), b = randn({257, 131}, gen);
  Tensor q = randn({8, 65, 64}, gen), k = randn({8, 63, 64}, gen);
  set_num_threads(1);
  Tensor c1 = matmul(a, b), s1 = matmul(q, transpose(k, -2, -1));
  set_num_threads(2);
  Tensor c2 = matmul(a, b), s2 = matmul(q, transpose(k, -2, -1));
  set_num_threads(saved);
  CHECK(equal(c1, c2));
  CHECK(equal(s1, s2));
}

TEST_CASE("matmul errors name both shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})),
                       "matmul: cannot multiply (2, 3) by (4, 5): inner sizes 3 and 4 differ", heed::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({3}), zeros({4})),
                       "matmul: cannot multiply (3,) by (4,): inner sizes 3 and 4 differ", heed::Error);
  CHECK_THROWS_WITH_AS(
      matmul(zeros({2, 3, 4}), zeros({3, 4, 5})),
      "matmul: cannot multiply (2, 3, 4) by (3, 4, 5): batch dims (2,) and (3,) do not broadcast",
      heed::Error);
  CHECK_THROWS_WITH_AS(matmul(scalar(2.0f), zeros({3})),
                       "matmul: cannot multiply () by (3,): both operands need at least one dimension",
                       heed::Error);
}

TEST_CASE("matmul with a bias equals the product plus the bias, to the bit, on every layout") {
  Generator gen(4);
  const Tensor bias = randn({5}, gen);
  const Tensor w = randn({5, 7}, gen);
  // folded batch (B, T, K)·(K, N), a transposed weight, a batched product, a
  // single row and column, and an empty inner size
  const std::vector<std::pair<Tensor, Tensor>> cases = {
      {randn({2, 3, 7}, gen), transpose(w, 0, 1)},
      {randn({4, 7}, gen), contiguous(transpose(w, 0, 1))},
      {randn({2, 3, 7}, gen), randn({2, 7, 5}, gen)},
      {randn({1, 7}, gen), transpose(w, 0, 1)},
      {randn({3, 0}, gen), zeros({0, 5})},
  };
  for (const auto& [a, b] : cases) {
    INFO("a ", a.shape(), " b ", b.shape());
    CHECK(matmul(a, b, bias).to_vector() == add(matmul(a, b), bias).to_vector());
  }
  const Tensor column = randn({1}, gen);
  CHECK(matmul(randn({3, 7}, gen), randn({7, 1}, gen), column).shape() == Shape{3, 1});
  CHECK_THROWS_WITH_AS(
      matmul(zeros({2, 3}), zeros({3, 4}), zeros({5})),
      "matmul: a bias of shape (5,) does not fit the product of (2, 3) by (3, 4): it must be "
      "(N,) = (4,)",
      heed::Error);
}
