// Reductions (tensor/reduce.cpp): every reduction against a double-precision
// loop, over dim lists, negative dims, keepdim and strided inputs; sum_to;
// accuracy on long sums; bitwise-equal results for any thread count; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;
using V = std::vector<float>;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Reference: reduce x (any rank <= 3, padded with leading 1s) over `dims` in
// double, by visiting every element. mode: 0 sum, 1 mean, 2 amax.
Tensor reference(const Tensor& x, std::vector<int64_t> dims, bool keepdim, int mode) {
  int64_t rank = x.dim();
  std::vector<bool> red(rank, dims.empty());
  for (int64_t d : dims) red[d < 0 ? d + rank : d] = true;
  Shape kept;
  for (int64_t d = 0; d < rank; ++d) kept.push_back(red[d] ? 1 : x.size(d));
  std::vector<double> acc(kept.numel(), mode == 2 ? -INFINITY : 0.0);
  std::vector<int64_t> count(kept.numel(), 0);
  Tensor c = contiguous(x);
  Strides ks = contiguous_strides(kept);
  for (int64_t flat = 0; flat < x.numel(); ++flat) {
    int64_t rest = flat, out = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t i = rest % x.size(d);
      rest /= x.size(d);
      if (!red[d]) out += i * ks[d];
    }
    double v = c.data()[flat];
    acc[out] = mode == 2 ? std::max(acc[out], v) : acc[out] + v;
    ++count[out];
  }
  V values;
  for (size_t i = 0; i < acc.size(); ++i) values.push_back(float(mode == 1 ? acc[i] / count[i] : acc[i]));
  Shape shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!red[d] || keepdim) shape.push_back(kept[d]);
  return from_vector(values, shape);
}

// Every dims list of a 3-D tensor, with some negative spellings.
const std::vector<std::vector<int64_t>> kDimLists = {{},     {0},    {1},    {2},      {-1},
                                                     {0, 1}, {0, 2}, {1, 2}, {-3, -1}, {0, 1, 2}};

// The same (4, 5, 6) values as contiguous, transposed, and sliced-with-step views.
std::vector<Tensor> inputs() {
  Generator gen(3);
  Tensor c = randn({4, 5, 6}, gen);
  Tensor t = permute(randn({6, 4, 5}, gen), {1, 2, 0});
  Tensor s = slice(randn({4, 10, 6}, gen), 1, 1, 10, 2);
  return {c, t, s, expand(randn({4, 1, 6}, gen), {4, 5, 6})};
}

}  // namespace

TEST_CASE("sum of everything is a 0-dim tensor") {
  Tensor s = sum(Tensor{{1, 2}, {3, 4}});
  CHECK(s.dim() == 0);
  CHECK(s.item() == 10);
  CHECK(sum(Tensor{{1, 2}, {3, 4}}, {}, true).shape() == Shape{1, 1});
  CHECK(sum(scalar(3)).item() == 3);
  CHECK(sum(scalar(3), {0}).item() == 3);
}

TEST_CASE("sum over each dim of a matrix") {
  Tensor x{{1, 2, 3}, {4, 5, 6}};
  CHECK(sum(x, {0}).to_vector() == V{5, 7, 9});
  CHECK(sum(x, {1}).to_vector() == V{6, 15});
  CHECK(sum(x, {-1}, true).shape() == Shape{2, 1});
  CHECK(sum(x, {0}, true).shape() == Shape{1, 3});
  CHECK(sum(x, {0, 1}).item() == 21);
}

TEST_CASE("sum, mean and amax match a double loop for every dims list, keepdim and layout") {
  for (const Tensor& x : inputs())
    for (const auto& dims : kDimLists)
      for (bool keepdim : {false, true}) {
        CAPTURE(x.strides());
        CAPTURE(dims.size());
        Tensor s = sum(x, dims, keepdim), m = mean(x, dims, keepdim), a = amax(x, dims, keepdim);
        Tensor rs = reference(x, dims, keepdim, 0);
        CHECK(s.shape() == rs.shape());
        CHECK(allclose(s, rs, 1e-5f, 1e-5f));
        CHECK(allclose(m, reference(x, dims, keepdim, 1), 1e-5f, 1e-6f));
        CHECK(equal(a, reference(x, dims, keepdim, 2)));
      }
}

TEST_CASE("mean divides by the number of reduced elements") {
  Tensor x{{1, 2}, {3, 5}};
  CHECK(mean(x).item() == 2.75f);
  CHECK(mean(x, {0}).to_vector() == V{2, 3.5f});
  CHECK(mean(x, {1}, true).to_vector() == V{1.5f, 4});
}

TEST_CASE("var is unbiased by default, biased on request") {
  Tensor x{{1, 2, 3, 4}, {2, 2, 2, 2}};
  CHECK(var(x, {1}).to_vector() == V{5.0f / 3.0f, 0});
  CHECK(var(x, {1}, false).to_vector() == V{1.25f, 0});
  CHECK(var(x, {0}, true, true).shape() == Shape{1, 4});
  CHECK(var(x, {0}, true, true).to_vector() == V{0.5f, 0, 0.5f, 2});
  CHECK(var(x).item() == doctest::Approx(0.7857143f));
  CHECK(std::isnan(var(Tensor{3}).item()));  // N - 1 = 0
  CHECK(var(Tensor{3}, {}, false).item() == 0);
}

TEST_CASE("var of a large offset has no cancellation") {
  Tensor x = Tensor{1e4f + 1, 1e4f + 2, 1e4f + 3, 1e4f + 4};
  CHECK(var(x, {}, false).item() == 1.25f);
}

TEST_CASE("var matches a double loop on strided inputs") {
  for (const Tensor& x : inputs())
    for (const auto& dims : kDimLists) {
      Tensor m = reference(x, dims, true, 1);
      Tensor d = x - m;
      Tensor want = reference(d * d, dims, false, 0) / float(x.numel() / m.numel() - 1);
      CHECK(allclose(var(x, dims), want, 1e-5f, 1e-6f));
    }
}

TEST_CASE("max gives values and indices; the first maximum wins") {
  Tensor x{{1, 3, 3, 2}, {7, 0, 7, 7}};
  MaxResult r = max(x, 1);
  CHECK(r.values.to_vector() == V{3, 7});
  CHECK(r.indices.to_vector() == V{1, 0});
  Tensor y{{1, 5}, {3, 5}, {3, 0}};
  r = max(y, 0, true);
  CHECK(r.values.shape() == Shape{1, 2});
  CHECK(r.values.to_vector() == V{3, 5});
  CHECK(r.indices.to_vector() == V{1, 0});
  CHECK(argmax(y, -1).to_vector() == V{1, 1, 0});
  CHECK(argmax(y, 0, true).shape() == Shape{1, 2});
}

TEST_CASE("max and argmax match a scalar loop on strided inputs") {
  for (const Tensor& x : inputs())
    for (int64_t dim : {0, 1, 2, -1}) {
      MaxResult r = max(x, dim, /*keepdim=*/true);
      Tensor rows = contiguous(transpose(x, dim, -1));         // the reduced dim last
      Tensor vals = contiguous(transpose(r.values, dim, -1));  // one per row, in the same order
      Tensor idx = contiguous(transpose(r.indices, dim, -1));
      int64_t n = rows.size(-1);
      for (int64_t row = 0; row < vals.numel(); ++row) {
        const float* p = rows.data() + row * n;
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i)
          if (p[i] > p[best]) best = i;
        CHECK(vals.data()[row] == p[best]);
        CHECK(idx.data()[row] == float(best));
      }
      MaxResult flat = max(x, dim);
      CHECK(equal(flat.values, squeeze(r.values, dim)));
      CHECK(equal(argmax(x, dim), squeeze(r.indices, dim)));
    }
}

TEST_CASE("max of a single long row is found in parallel blocks and the first maximum still wins") {
  Generator gen(8);
  Tensor x = rand({100000}, gen);
  x.at({70000}) = 2;
  x.at({90000}) = 2;
  MaxResult r = max(x, 0);
  CHECK(r.values.item() == 2);
  CHECK(r.indices.item() == 70000);
  CHECK(amax(x).item() == 2);
}

TEST_CASE("NaN propagates: amax and max return NaN, and max the index of the first NaN") {
  Tensor x{{1, kNaN, 3, kNaN}, {4, 5, 6, 7}};
  CHECK(std::isnan(amax(x).item()));
  MaxResult r = max(x, 1);
  CHECK(std::isnan(r.values.to_vector()[0]));
  CHECK(r.values.to_vector()[1] == 7);
  CHECK(r.indices.to_vector() == V{1, 3});
  MaxResult c = max(x, 0);
  CHECK(std::isnan(c.values.to_vector()[1]));
  CHECK(c.indices.to_vector() == V{1, 0, 1, 0});
  CHECK(std::isnan(sum(x).item()));
  CHECK(std::isnan(mean(x, {1}).to_vector()[0]));
}

TEST_CASE("reductions over a size-0 dim: sum is 0, mean is NaN, max is an error") {
  Tensor e = zeros({2, 0});
  CHECK(sum(e).item() == 0);
  CHECK(sum(e, {1}).to_vector() == V{0, 0});
  CHECK(sum(e, {0}).shape() == Shape{0});
  CHECK(std::isnan(mean(e).item()));
  CHECK(std::isnan(mean(e, {1}).to_vector()[1]));
  CHECK(amax(e, {0}).shape() == Shape{0});  // nothing to reduce into
  CHECK_THROWS_WITH_AS(amax(e), "amax: cannot reduce over zero elements (shape (2, 0))", Error);
  CHECK_THROWS_WITH_AS(max(e, 1), "max: cannot reduce over zero elements (shape (2, 0))", Error);
  CHECK_THROWS_WITH_AS(argmax(e, -1), "argmax: cannot reduce over zero elements (shape (2, 0))", Error);
}

TEST_CASE("reductions name the op and the dims they reject") {
  Tensor x = zeros({2, 3});
  CHECK_THROWS_WITH_AS(sum(x, {2}),
                       "sum: dim 2 is out of range for a tensor with 2 dimensions (expected -2 to 1)", Error);
  CHECK_THROWS_WITH_AS(
      mean(x, {-3}), "mean: dim -3 is out of range for a tensor with 2 dimensions (expected -2 to 1)", Error);
  CHECK_THROWS_WITH_AS(amax(x, {1, -1}), "amax: dim -1 appears twice in the dims to reduce", Error);
  CHECK_THROWS_WITH_AS(var(x, {0, 0}), "var: dim 0 appears twice in the dims to reduce", Error);
  CHECK_THROWS_WITH_AS(max(x, 5),
                       "max: dim 5 is out of range for a tensor with 2 dimensions (expected -2 to 1)", Error);
  CHECK_THROWS_WITH_AS(sum(Tensor()), "sum: the tensor is undefined", Error);
}

TEST_CASE("sum_to undoes broadcasting") {
  Tensor g = Tensor{{1, 2, 3}, {4, 5, 6}};
  CHECK(sum_to(g, {3}).to_vector() == V{5, 7, 9});
  CHECK(sum_to(g, {2, 1}).shape() == Shape{2, 1});
  CHECK(sum_to(g, {2, 1}).to_vector() == V{6, 15});
  CHECK(sum_to(g, {1, 3}).to_vector() == V{5, 7, 9});
  CHECK(sum_to(g, {1}).to_vector() == V{21});
  CHECK(sum_to(g, {}).dim() == 0);
  CHECK(sum_to(g, {}).item() == 21);
  Tensor same = sum_to(g, {2, 3});
  CHECK(equal(same, g));
  CHECK(same.storage() != g.storage());  // a fresh tensor, like every op's result
}

TEST_CASE("sum_to reduces the gradient of a broadcast add to each input's shape") {
  Generator gen(4);
  Tensor a = randn({4, 1, 3}, gen), b = randn({2, 1}, gen);
  Tensor grad = randn(broadcast_shapes(a.shape(), b.shape(), "add"), gen);  // (4, 2, 3)
  CHECK(allclose(sum_to(grad, a.shape()), sum(grad, {1}, true), 0, 0));
  CHECK(allclose(sum_to(grad, b.shape()), sum(sum(grad, {0}), {1}, true), 1e-6f, 1e-6f));
  CHECK(allclose(sum_to(transpose(grad, 0, 2), {3, 1, 1}), reference(transpose(grad, 0, 2), {1, 2}, true, 0),
                 1e-5f, 1e-6f));
}

TEST_CASE("sum_to names both shapes when they are not broadcast-compatible") {
  Tensor g = zeros({2, 3});
  CHECK_THROWS_WITH_AS(sum_to(g, {4}),
                       "sum_to: cannot sum (2, 3) down to (4,): (4,) does not broadcast to (2, 3)", Error);
  CHECK_THROWS_WITH_AS(sum_to(g, {1, 2, 3}),
                       "sum_to: cannot sum (2, 3) down to (1, 2, 3): (1, 2, 3) does not broadcast to (2, 3)",
                       Error);
  CHECK_THROWS_WITH_AS(sum_to(g, {2, 2}),
                       "sum_to: cannot sum (2, 3) down to (2, 2): (2, 2) does not broadcast to (2, 3)",
                       Error);
}

TEST_CASE("a float sum of a million ones is exact") {
  CHECK(sum(ones({1000000})).item() == 1e6f);
  CHECK(sum(ones({1000000, 2}), {0}).to_vector() == V{1e6f, 1e6f});
  CHECK(sum(ones({2, 1000000}), {1}).to_vector() == V{1e6f, 1e6f});
  CHECK(mean(ones({1000000})).item() == 1.0f);
}

TEST_CASE("a sum of ten million random values is as close as float allows to the double sum") {
  Generator gen(9);
  Tensor x = rand({10000000}, gen);
  double exact = 0;
  for (float v : x.to_vector()) exact += v;
  float s = sum(x).item();
  CHECK(std::fabs(s - exact) <= exact * 1.2e-7);  // within one float ulp
  Tensor cols = sum(reshape(x, {-1, 2}), {0});
  double e0 = 0, e1 = 0;
  for (int64_t i = 0; i < x.numel(); i += 2) e0 += x.data()[i], e1 += x.data()[i + 1];
  CHECK(std::fabs(cols.to_vector()[0] - e0) <= e0 * 1.2e-7);
  CHECK(std::fabs(cols.to_vector()[1] - e1) <= e1 * 1.2e-7);
}

TEST_CASE("reductions are bitwise identical with 1 and 2 threads") {
  Generator gen(10);
  Tensor big = randn({3000000}, gen);
  Tensor m = randn({700, 900}, gen);
  Tensor t = transpose(m, 0, 1);
  int saved = num_threads();
  std::vector<Tensor> results[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    results[threads - 1] = {sum(big),
                            mean(big),
                            amax(big),
                            max(big, 0).indices,
                            sum(m, {0}),
                            sum(m, {1}),
                            sum(t, {0}),
                            var(m, {1}),
                            amax(m, {0}),
                            argmax(m, 0),
                            argmax(t, 1),
                            sum_to(m, {900}),
                            mean(reshape(big, {1000, 3, 1000}), {1})};
  }
  set_num_threads(saved);
  for (size_t i = 0; i < results[0].size(); ++i) {
    CAPTURE(i);
    CHECK(equal(results[0][i], results[1][i]));
  }
}

TEST_CASE("allclose compares within rtol and atol; NaNs are equal, infinities only to themselves") {
  float inf = std::numeric_limits<float>::infinity();
  CHECK(allclose(Tensor{1, 2}, Tensor{1, 2.00001f}));
  CHECK_FALSE(allclose(Tensor{1, 2}, Tensor{1, 2.001f}));
  CHECK(allclose(Tensor{1, 2}, Tensor{1, 2.001f}, 1e-3f));
  CHECK(allclose(Tensor{0}, Tensor{1e-9f}));
  CHECK(allclose(Tensor{kNaN, inf}, Tensor{kNaN, inf}));
  CHECK_FALSE(allclose(Tensor{kNaN}, Tensor{1}));
  CHECK_FALSE(allclose(Tensor{1}, Tensor{inf}, 1, 1));
  CHECK_FALSE(allclose(Tensor{inf}, Tensor{-inf}));
  CHECK_FALSE(allclose(Tensor{1, 2}, Tensor{{1, 2}}));  // shapes differ
  CHECK(allclose(transpose(Tensor{{1, 2}, {3, 4}}, 0, 1), Tensor{{1, 3}, {2, 4}}));
}

TEST_CASE("equal compares shapes and every bit") {
  CHECK(equal(Tensor{1, 2}, Tensor{1, 2}));
  CHECK_FALSE(equal(Tensor{1, 2}, Tensor{1, 2.0000002f}));
  CHECK_FALSE(equal(Tensor{0.0f}, Tensor{-0.0f}));
  CHECK(equal(Tensor{kNaN}, Tensor{kNaN}));
  CHECK_FALSE(equal(Tensor{1, 2}, Tensor{{1, 2}}));
  CHECK(equal(zeros({0, 2}), zeros({0, 2})));
  CHECK(equal(Tensor(), Tensor()));
  CHECK_FALSE(equal(Tensor(), scalar(0)));
}
