// masked_fill, where, gather, index_select and their adding twins scatter_add, index_add.
#include <doctest/doctest.h>

#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;

namespace {

// <a, b> summed in double: the adjoint checks compare two such sums.
double dot(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += double(x[i]) * y[i];
  return s;
}

// Whole numbers in [0, n), as an index tensor of `shape`.
Tensor random_indices(const Shape& shape, int64_t n, Generator& gen) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (float& f : v) f = static_cast<float>(gen.randint(n));
  return from_vector(v, shape);
}

}  // namespace

TEST_CASE("masked_fill writes value where the mask is non-zero, broadcasting the mask") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(equal(masked_fill(x, Tensor{0, 1, 0}, -1), Tensor{{1, -1, 3}, {4, -1, 6}}));
  CHECK(equal(masked_fill(x, reshape(Tensor{1, 0}, {2, 1}), 0), Tensor{{0, 0, 0}, {4, 5, 6}}));
  CHECK(equal(masked_fill(transpose(x, 0, 1), Tensor{0, 2}, 9), Tensor{{1, 9}, {2, 9}, {3, 9}}));
}

TEST_CASE("masked_fill broadcasts x and the mask to their common shape") {
  Tensor x = reshape(Tensor{1, 2, 3}, {3, 1});
  Tensor y = masked_fill(x, Tensor{{0, 1, 0, 1}}, 0);
  CHECK(equal(y, Tensor{{1, 0, 1, 0}, {2, 0, 2, 0}, {3, 0, 3, 0}}));
}

TEST_CASE("where picks a where cond is non-zero, else b, broadcasting all three") {
  Tensor cond = reshape(Tensor{1, 0}, {2, 1});
  Tensor y = where(cond, Tensor{1, 2, 3}, scalar(-1));
  CHECK(y.shape() == Shape{2, 3});
  CHECK(equal(y, Tensor{{1, 2, 3}, {-1, -1, -1}}));
  CHECK(equal(where(Tensor{0, 0.5f, -2}, Tensor{1, 1, 1}, Tensor{7, 7, 7}), Tensor{7, 1, 1}));
}

TEST_CASE("gather along the last dim picks out[i][j] = x[i][index[i][j]]") {
  // The cross-entropy pick: the logit of each row's target class.
  Tensor logits{{0.1f, 0.2f, 0.3f, 0.4f}, {1, 2, 3, 4}, {-1, -2, -3, -4}};
  Tensor target = reshape(Tensor{3, 0, 2}, {3, 1});
  CHECK(equal(gather(logits, 1, target), reshape(Tensor{0.4f, 1, -3}, {3, 1})));
  CHECK(equal(gather(logits, -1, Tensor{{0, 0, 1}, {3, 3, 3}}), Tensor{{0.1f, 0.1f, 0.2f}, {4, 4, 4}}));
}

TEST_CASE("gather along dim 0 and through a transposed x") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(equal(gather(x, 0, Tensor{{1, 0, 1}}), Tensor{{4, 2, 6}}));
  Tensor xt = transpose(x, 0, 1);  // {{1, 4}, {2, 5}, {3, 6}}
  CHECK(equal(gather(xt, 1, reshape(Tensor{1, 0, 1}, {3, 1})), reshape(Tensor{4, 2, 6}, {3, 1})));
}

TEST_CASE("scatter_add adds src at the positions gather reads, repeated indices accumulating") {
  CHECK(equal(scatter_add({3}, 0, Tensor{0, 2, 0, 0}, Tensor{1, 2, 3, 4}), Tensor{8, 0, 2}));
  Tensor y = scatter_add({2, 4}, 1, Tensor{{1, 1}, {3, 0}}, Tensor{{1, 2}, {3, 4}});
  CHECK(equal(y, Tensor{{0, 3, 0, 0}, {4, 0, 0, 3}}));
}

TEST_CASE("scatter_add is the adjoint of gather: <gather(x, i), g> == <x, scatter_add(g)>") {
  Generator gen(1);
  for (int64_t dim : {0, 1, 2}) {
    CAPTURE(dim);
    Tensor x = randn({4, 5, 6}, gen);
    Shape is{3, 4, 5};
    is[dim] = 7;  // longer than x along dim: indices repeat
    Tensor index = random_indices(is, x.size(dim), gen);
    Tensor g = randn(is, gen);
    CHECK(dot(gather(x, dim, index), g) ==
          doctest::Approx(dot(x, scatter_add(x.shape(), dim, index, g))).epsilon(1e-5));
  }
}

TEST_CASE("index_select with a 2-D index is the embedding lookup: (V, D) by (B, T) -> (B, T, D)") {
  Tensor table{{0, 0}, {1, 10}, {2, 20}, {3, 30}};
  Tensor ids{{3, 1, 1}, {0, 2, 3}};
  Tensor e = index_select(table, 0, ids);
  CHECK(e.shape() == Shape{2, 3, 2});
  CHECK(equal(e, Tensor{{{3, 30}, {1, 10}, {1, 10}}, {{0, 0}, {2, 20}, {3, 30}}}));
}

TEST_CASE("index_select along a middle dim, on a non-contiguous x, and with a 0-dim index") {
  Generator gen(2);
  Tensor x = randn({2, 5, 3}, gen);
  Tensor y = index_select(x, 1, Tensor{4, 0, 4, 2});
  CHECK(y.shape() == Shape{2, 4, 3});
  CHECK(equal(select(y, 1, 0), select(x, 1, 4)));
  CHECK(equal(select(y, 1, 2), select(x, 1, 4)));
  CHECK(equal(select(y, 1, 3), select(x, 1, 2)));
  Tensor xt = transpose(x, 0, 2);  // (3, 5, 2)
  CHECK(equal(index_select(xt, -1, Tensor{1}), slice(xt, 2, 1, 2)));
  CHECK(equal(index_select(x, 1, scalar(3)), select(x, 1, 3)));
}

TEST_CASE("index_add accumulates repeated indices: the embedding backward") {
  Tensor grad{{{1, 1}, {2, 2}, {3, 3}}};  // (B=1, T=3, D=2)
  Tensor ids{{2, 0, 2}};                  // token 2 appears twice
  CHECK(equal(index_add({4, 2}, 0, ids, grad), Tensor{{2, 2}, {0, 0}, {4, 4}, {0, 0}}));
}

TEST_CASE("index_add is the adjoint of index_select") {
  Generator gen(3);
  for (int64_t dim : {0, 1, 2}) {
    CAPTURE(dim);
    Tensor x = randn({4, 5, 6}, gen);
    Tensor index = random_indices({3, 4}, x.size(dim), gen);
    Tensor y = index_select(x, dim, index);
    Tensor g = randn(y.shape(), gen);
    CHECK(dot(y, g) == doctest::Approx(dot(x, index_add(x.shape(), dim, index, g))).epsilon(1e-5));
  }
}

TEST_CASE("index_add and scatter_add give bitwise identical results for 1 and 2 threads") {
  Generator gen(4);
  const int saved = num_threads();
  Tensor ids = random_indices({64, 64}, 50, gen), grad = randn({64, 64, 96}, gen);
  Tensor cls = random_indices({512, 64}, 100, gen), src = randn({512, 64}, gen);
  set_num_threads(1);
  Tensor a1 = index_add({50, 96}, 0, ids, grad), s1 = scatter_add({512, 100}, 1, cls, src);
  set_num_threads(2);
  Tensor a2 = index_add({50, 96}, 0, ids, grad), s2 = scatter_add({512, 100}, 1, cls, src);
  set_num_threads(saved);
  CHECK(equal(a1, a2));
  CHECK(equal(s1, s2));
}

TEST_CASE("index errors name the op, the bad value and the valid range") {
  CHECK_THROWS_WITH_AS(index_select(zeros({5, 2}), 0, Tensor{1, 7}),
                       "index_select: index 7 is out of range for dim 0 of size 5", heed::Error);
  CHECK_THROWS_WITH_AS(index_select(zeros({5, 2}), 1, Tensor{-1}),
                       "index_select: index -1 is out of range for dim 1 of size 2", heed::Error);
  CHECK_THROWS_WITH_AS(gather(zeros({2, 3}), 1, reshape(Tensor{0, 1.5f}, {2, 1})),
                       "gather: index 1.5 is not a whole number", heed::Error);
  CHECK_THROWS_WITH_AS(scatter_add({3}, 0, Tensor{3}, Tensor{1}),
                       "scatter_add: index 3 is out of range for dim 0 of size 3", heed::Error);
  CHECK_THROWS_WITH_AS(index_add({3, 2}, 0, Tensor{0.25f}, zeros({1, 2})),
                       "index_add: index 0.25 is not a whole number", heed::Error);
}

TEST_CASE("index shape errors name both shapes") {
  CHECK_THROWS_WITH_AS(gather(zeros({2, 3}), 1, Tensor{0, 1}),
                       "gather: index of shape (2,) must have the rank of x (2, 3)", heed::Error);
  CHECK_THROWS_WITH_AS(gather(zeros({2, 3}), 1, zeros({3, 1})),
                       "gather: index of shape (3, 1) is larger than x of shape (2, 3) at dim 0",
                       heed::Error);
  CHECK_THROWS_WITH_AS(
      index_add({4, 2}, 0, Tensor{0, 1}, zeros({2, 3})),
      "index_add: src of shape (2, 3) does not match index of shape (2,) into (4, 2) along dim 0 "
      "(expected (2, 2))",
      heed::Error);
  CHECK_THROWS_WITH_AS(
      masked_fill(zeros({2, 3}), zeros({2}), 1.0f),
      "masked_fill: cannot broadcast (2, 3) with (2,): sizes 3 and 2 at dim 1 differ and neither is 1",
      heed::Error);
}
