// cat and stack (copies), split and chunk (views).
#include <doctest/doctest.h>

#include <vector>

#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;

namespace {

std::vector<int64_t> sizes_along(const std::vector<Tensor>& pieces, int64_t dim) {
  std::vector<int64_t> s;
  for (const Tensor& p : pieces) s.push_back(p.size(dim));
  return s;
}

}  // namespace

TEST_CASE("cat joins tensors along any dim") {
  Tensor a{{1, 2, 3}, {4, 5, 6}}, b{{7, 8, 9}}, c = zeros({2, 1});
  CHECK(equal(cat({a, b}, 0), Tensor{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
  CHECK(equal(cat({a, c, a}, -1), Tensor{{1, 2, 3, 0, 1, 2, 3}, {4, 5, 6, 0, 4, 5, 6}}));
  CHECK(equal(cat({Tensor{1, 2}, Tensor{3}}, 0), Tensor{1, 2, 3}));
}

TEST_CASE("cat reads non-contiguous inputs and gives a fresh contiguous result") {
  Tensor a{{1, 2, 3}, {4, 5, 6}};
  Tensor every_other = transpose(slice(a, 1, 0, 3, 2), 0, 1);  // {{1, 4}, {3, 6}}
  Tensor y = cat({transpose(a, 0, 1), every_other, expand(Tensor{{9, 9}}, {2, 2})}, 0);
  CHECK(y.is_contiguous());
  CHECK(equal(y, Tensor{{1, 4}, {2, 5}, {3, 6}, {1, 4}, {3, 6}, {9, 9}, {9, 9}}));
  Tensor alone = cat({a}, 1);
  CHECK(equal(alone, a));
  CHECK(alone.data() != a.data());
}

TEST_CASE("cat takes pieces of size 0 along dim") {
  Tensor a{{1, 2, 3}};
  CHECK(equal(cat({zeros({0, 3}), a, zeros({0, 3})}, 0), a));
  CHECK(cat({zeros({0, 3}), zeros({0, 3})}, 0).shape() == Shape{0, 3});
  CHECK(cat({zeros({2, 0}), zeros({2, 0})}, 0).shape() == Shape{4, 0});
}

TEST_CASE("stack adds a new dim of size len(xs) at dim") {
  Tensor a{1, 2, 3}, b{4, 5, 6};
  CHECK(equal(stack({a, b}, 0), Tensor{{1, 2, 3}, {4, 5, 6}}));
  CHECK(equal(stack({a, b}, 1), Tensor{{1, 4}, {2, 5}, {3, 6}}));
  CHECK(equal(stack({a, b}, -1), Tensor{{1, 4}, {2, 5}, {3, 6}}));
  Generator gen(1);
  Tensor x = randn({2, 3}, gen), y = randn({2, 3}, gen);
  Tensor s = stack({x, transpose(transpose(y, 0, 1), 0, 1), x}, 1);  // (2, 3, 3)
  CHECK(s.shape() == Shape{2, 3, 3});
  CHECK(equal(select(s, 1, 1), y));
  CHECK(equal(stack({scalar(1), scalar(2)}, 0), Tensor{1, 2}));
}

TEST_CASE("split gives views of `size` along dim, the last one smaller") {
  Tensor x = reshape(arange(15), {5, 3});
  std::vector<Tensor> pieces = split(x, 2, 0);
  CHECK(sizes_along(pieces, 0) == std::vector<int64_t>{2, 2, 1});
  CHECK(pieces[1].data() == x.data() + 6);  // a view: no copy
  CHECK(equal(pieces[2], Tensor{{12, 13, 14}}));
  CHECK(sizes_along(split(x, 3, -1), 1) == std::vector<int64_t>{3});
  CHECK(sizes_along(split(x, 7, 0), 0) == std::vector<int64_t>{5});
}

TEST_CASE("chunk follows torch.chunk: pieces of ceil(n / chunks), maybe fewer than asked") {
  CHECK(sizes_along(chunk(zeros({7}), 4, 0), 0) == std::vector<int64_t>{2, 2, 2, 1});
  CHECK(sizes_along(chunk(zeros({6}), 4, 0), 0) == std::vector<int64_t>{2, 2, 2});
  CHECK(sizes_along(chunk(zeros({3}), 5, 0), 0) == std::vector<int64_t>{1, 1, 1});
  CHECK(sizes_along(chunk(zeros({2, 0}), 3, 1), 1) == std::vector<int64_t>{0, 0, 0});
  // The attention use: one (B, T, 3D) projection into q, k, v of (B, T, D).
  Tensor qkv = reshape(arange(2 * 4 * 12), {2, 4, 12});
  std::vector<Tensor> parts = chunk(qkv, 3, -1);
  REQUIRE(parts.size() == 3);
  CHECK(parts[2].shape() == Shape{2, 4, 4});
  CHECK(parts[2].data() == qkv.data() + 8);
}

TEST_CASE("split and chunk followed by cat give back the original") {
  Generator gen(2);
  Tensor x = randn({4, 9, 5}, gen);
  for (int64_t dim : {0, 1, 2}) {
    CAPTURE(dim);
    CHECK(equal(cat(split(x, 2, dim), dim), x));
    CHECK(equal(cat(chunk(x, 3, dim), dim), x));
  }
  Tensor xt = transpose(x, 0, 2);
  CHECK(equal(cat(split(xt, 4, 1), 1), xt));
}

TEST_CASE("unbind gives every index of a dim as views, and stack puts them back") {
  Tensor x = from_vector({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
  std::vector<Tensor> steps = unbind(x, 1);
  REQUIRE(steps.size() == 3);
  CHECK(steps[1].shape() == Shape{2, 2});
  CHECK(steps[1].storage() == x.storage());
  CHECK(steps[1].to_vector() == std::vector<float>{2, 3, 8, 9});
  CHECK(stack(steps, 1).to_vector() == x.to_vector());
  CHECK(unbind(x, -1).size() == 2);
  CHECK(unbind(zeros({0, 3}), 0).empty());
  CHECK_THROWS_WITH_AS(unbind(x, 3), doctest::Contains("unbind"), heed::Error);
}

TEST_CASE("join errors name the op, the offending tensor and the shapes") {
  CHECK_THROWS_WITH_AS(cat({}, 0), "cat: expected at least one tensor", heed::Error);
  CHECK_THROWS_WITH_AS(
      cat({zeros({2, 3}), zeros({1, 3}), zeros({2, 4})}, 0),
      "cat: tensor 2 has shape (2, 4) but tensor 0 has shape (2, 3); sizes must match except in "
      "dim 0",
      heed::Error);
  CHECK_THROWS_WITH_AS(
      cat({zeros({2, 3}), zeros({3})}, 1),
      "cat: tensor 1 has shape (3,) but tensor 0 has shape (2, 3); sizes must match except in dim 1",
      heed::Error);
  CHECK_THROWS_WITH_AS(
      cat({zeros({0}), zeros({2, 3})}, 0),
      "cat: tensor 1 has shape (2, 3) but tensor 0 has shape (0,); sizes must match except in dim 0",
      heed::Error);
  CHECK_THROWS_WITH_AS(cat({scalar(1), scalar(2)}, 0),
                       "cat: cannot concatenate a 0-dim tensor (tensor 0); unsqueeze it or use stack",
                       heed::Error);
  CHECK_THROWS_WITH_AS(stack({zeros({2}), zeros({3})}, 0),
                       "stack: tensor 1 has shape (3,) but tensor 0 has shape (2,); stack needs equal shapes",
                       heed::Error);
  CHECK_THROWS_WITH_AS(split(zeros({4}), 0, 0), "split: size must be positive, got 0", heed::Error);
  CHECK_THROWS_WITH_AS(chunk(zeros({4}), 0, 0), "chunk: chunks must be positive, got 0", heed::Error);
  CHECK_THROWS_AS(cat({zeros({2, 3})}, 2), heed::Error);
}
