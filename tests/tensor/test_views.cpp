// Tensor creation, views and copies (tensor/tensor.h): what shares storage,
// which strides each view makes, and the exact error for each misuse.
#include <doctest/doctest.h>

#include <vector>

#include "tensor/ops.h"
#include "tensor/tensor.h"

using namespace heed;
using V = std::vector<float>;

namespace {
Tensor iota(const Shape& shape) { return reshape(arange(shape.numel()), shape); }
}  // namespace

TEST_CASE("literals make 1-D, 2-D and 3-D tensors in row-major order") {
  Tensor a{1, 2, 3};
  CHECK(a.shape() == Shape{3});
  CHECK(a.to_vector() == V{1, 2, 3});
  Tensor b{{1, 2}, {3, 4}, {5, 6}};
  CHECK(b.shape() == Shape{3, 2});
  CHECK(b.strides() == Strides{2, 1});
  CHECK(b.to_vector() == V{1, 2, 3, 4, 5, 6});
  Tensor c{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}};
  CHECK(c.shape() == Shape{2, 2, 2});
  CHECK(c.to_vector() == V{1, 2, 3, 4, 5, 6, 7, 8});
  // Every brace is a dim: one number per row is a column, not a 1-D literal.
  Tensor column{{1}, {2.5f}, {3}};
  CHECK(column.shape() == Shape{3, 1});
  CHECK(column.to_vector() == V{1, 2.5f, 3});
  CHECK(Tensor{{7}}.shape() == Shape{1, 1});
  CHECK(Tensor{{{1}, {2}}}.shape() == Shape{1, 2, 1});
  CHECK(Tensor{4}.shape() == Shape{1});
  CHECK(Tensor{{}, {}}.shape() == Shape{2, 0});
  CHECK(Tensor{{{{1, 2}}}}.shape() == Shape{1, 1, 1, 2});
  CHECK_THROWS_WITH_AS((Tensor{{1, 2}, {3}}),
                       "Tensor: ragged literal: entries of shape (2,) and (1,) side by side", Error);
  CHECK_THROWS_WITH_AS((Tensor{{{1, 2}}, {{1}, {2}}}),
                       "Tensor: ragged literal: entries of shape (1, 2) and (2, 1) side by side", Error);
  CHECK_THROWS_WITH_AS((Tensor{1, {2}}), "Tensor: ragged literal: entries of shape () and (1,) side by side",
                       Error);
}

TEST_CASE("an undefined tensor has no storage") {
  Tensor t;
  CHECK_FALSE(t.defined());
  CHECK_THROWS_WITH_AS(t.item(), "item: expected a tensor with one element, got shape undefined", Error);
}

TEST_CASE("creation functions fill their shapes") {
  CHECK(zeros({2, 2}).to_vector() == V{0, 0, 0, 0});
  CHECK(ones({3}).to_vector() == V{1, 1, 1});
  CHECK(full({2}, 7.5f).to_vector() == V{7.5f, 7.5f});
  CHECK(zeros_like(iota({2, 3})).shape() == Shape{2, 3});
  CHECK(ones_like(iota({4})).to_vector() == V{1, 1, 1, 1});
  Tensor s = scalar(3.5f);
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 3.5f);
  CHECK(empty({0, 3}).numel() == 0);
  CHECK_THROWS_WITH_AS(empty({-1}), "empty: negative size in shape (-1,)", Error);
}

TEST_CASE("arange counts like numpy.arange") {
  CHECK(arange(4).to_vector() == V{0, 1, 2, 3});
  CHECK(arange(1.0f, 2.0f, 0.25f).to_vector() == V{1, 1.25f, 1.5f, 1.75f});
  CHECK(arange(3.0f, 0.0f, -1.0f).to_vector() == V{3, 2, 1});
  CHECK(arange(0.0f, 1.0f, 0.1f).numel() == 10);
  CHECK(arange(2.0f, 1.0f).numel() == 0);
  CHECK_THROWS_WITH_AS(arange(0.0f, 1.0f, 0.0f), "arange: step must be non-zero", Error);
}

TEST_CASE("from_vector copies its values into the shape") {
  V values{1, 2, 3, 4, 5, 6};
  Tensor t = from_vector(values, {2, 3});
  values[0] = 100;
  CHECK(t.at({0, 0}) == 1);
  CHECK(t.at({1, 2}) == 6);
  CHECK(from_vector({}, {0, 3}).shape() == Shape{0, 3});
  CHECK_THROWS_WITH_AS(from_vector({1, 2, 3}, {2, 2}),
                       "from_vector: 3 values cannot fill shape (2, 2) (4 elements)", Error);
}

TEST_CASE("at and item read elements, negative indices from the end") {
  Tensor t = iota({2, 3});
  CHECK(t.at({1, 2}) == 5);
  CHECK(t.at({-1, -3}) == 3);
  t.at({0, 1}) = 42;
  CHECK(t.to_vector()[1] == 42);
  CHECK(scalar(2).at({}) == 2);
  CHECK(Tensor{9}.item() == 9);
  CHECK_THROWS_WITH_AS(t.at({0}), "at: 1 indices for a tensor of shape (2, 3)", Error);
  CHECK_THROWS_WITH_AS(t.at({2, 0}), "at: index 2 is out of range for dim 0 of size 2 (shape (2, 3))", Error);
  CHECK_THROWS_WITH_AS(t.at({0, -4}), "at: index -4 is out of range for dim 1 of size 3 (shape (2, 3))",
                       Error);
  CHECK_THROWS_WITH_AS(t.item(), "item: expected a tensor with one element, got shape (2, 3)", Error);
}

TEST_CASE("size and stride take negative dims") {
  Tensor t = iota({2, 3, 4});
  CHECK(t.size(-1) == 4);
  CHECK(t.size(0) == 2);
  CHECK(t.stride(-3) == 12);
  CHECK(t.stride(1) == 4);
  CHECK_THROWS_WITH_AS(
      t.size(3), "size: dim 3 is out of range for a tensor with 3 dimensions (expected -3 to 2)", Error);
  CHECK_THROWS_WITH_AS(t.stride(-4),
                       "stride: dim -4 is out of range for a tensor with 3 dimensions (expected -3 to 2)",
                       Error);
  CHECK_THROWS_WITH_AS(Tensor{1}.size(1),
                       "size: dim 1 is out of range for a tensor with 1 dimension (expected -1 to 0)", Error);
}

TEST_CASE("view shares storage and infers one -1") {
  Tensor t = iota({2, 6});
  Tensor v = view(t, {3, -1});
  CHECK(v.shape() == Shape{3, 4});
  CHECK(v.strides() == Strides{4, 1});
  CHECK(v.storage() == t.storage());
  v.at({2, 3}) = -1;
  CHECK(t.at({1, 5}) == -1);
  CHECK(view(t, {12}).shape() == Shape{12});
  CHECK(view(scalar(1), {1, 1}).shape() == Shape{1, 1});
  CHECK_THROWS_WITH_AS(view(t, {-1, -1}), "view: only one size may be -1, got (-1, -1)", Error);
  CHECK_THROWS_WITH_AS(view(t, {5}), "view: cannot reshape (2, 6) (12 elements) into (5,) (5 elements)",
                       Error);
  CHECK_THROWS_WITH_AS(view(t, {5, -1}), "view: cannot reshape (2, 6) (12 elements) into (5, -1)", Error);
  CHECK_THROWS_WITH_AS(view(t, {-2, 6}), "view: invalid size -2 in (-2, 6)", Error);
}

TEST_CASE("view merges dims only where they are adjacent in memory; reshape copies otherwise") {
  Tensor t = iota({2, 3});
  Tensor tt = transpose(t, 0, 1);
  CHECK_THROWS_WITH_AS(
      view(tt, {6}),
      "view: cannot view (3, 2) with strides (1, 3) as (6,) without a copy: the dims it merges "
      "are not adjacent in memory; use reshape() or contiguous() first",
      Error);
  Tensor r = reshape(tt, {6});
  CHECK(r.storage() != t.storage());
  CHECK(r.to_vector() == V{0, 3, 1, 4, 2, 5});
  Tensor same = reshape(t, {3, 2});
  CHECK(same.storage() == t.storage());
  CHECK_THROWS_WITH_AS(reshape(t, {4}), "reshape: cannot reshape (2, 3) (6 elements) into (4,) (4 elements)",
                       Error);
}

TEST_CASE("flatten makes one dim") {
  CHECK(flatten(iota({2, 3, 4})).shape() == Shape{24});
  CHECK(flatten(scalar(5)).shape() == Shape{1});
  CHECK(flatten(transpose(iota({2, 2}), 0, 1)).to_vector() == V{0, 2, 1, 3});
}

TEST_CASE("transpose swaps two strides without copying") {
  Tensor t = iota({2, 3, 4});
  Tensor tt = transpose(t, 0, -1);
  CHECK(tt.shape() == Shape{4, 3, 2});
  CHECK(tt.strides() == Strides{1, 4, 12});
  CHECK(tt.storage() == t.storage());
  CHECK_FALSE(tt.is_contiguous());
  CHECK(tt.at({3, 2, 1}) == t.at({1, 2, 3}));
  CHECK(transpose(t, 1, 1).is_contiguous());
  CHECK_THROWS_WITH_AS(transpose(t, 0, 3),
                       "transpose: dim 3 is out of range for a tensor with 3 dimensions (expected -3 to 2)",
                       Error);
}

TEST_CASE("permute reorders dims") {
  Tensor t = iota({2, 3, 4});
  Tensor p = permute(t, {2, 0, -2});
  CHECK(p.shape() == Shape{4, 2, 3});
  CHECK(p.strides() == Strides{1, 12, 4});
  CHECK(p.at({1, 1, 2}) == t.at({1, 2, 1}));
  CHECK_THROWS_WITH_AS(permute(t, {0, 1}), "permute: 2 dims given for a tensor of shape (2, 3, 4)", Error);
  CHECK_THROWS_WITH_AS(permute(t, {0, 1, -3}), "permute: dim -3 appears twice", Error);
}

TEST_CASE("slice with a step moves the offset and multiplies the stride") {
  Tensor t = iota({10});
  Tensor s = slice(t, 0, 1, 8, 3);
  CHECK(s.shape() == Shape{3});
  CHECK(s.strides() == Strides{3});
  CHECK(s.offset() == 1);
  CHECK(s.storage() == t.storage());
  CHECK(s.to_vector() == V{1, 4, 7});
  CHECK(slice(t, 0, -3, 100).to_vector() == V{7, 8, 9});  // clamps like Python
  CHECK(slice(t, 0, 5, 2).numel() == 0);                  // end before start: empty
  CHECK(slice(t, -1, 0, 10, 4).to_vector() == V{0, 4, 8});
  Tensor m = iota({3, 4});
  CHECK(slice(m, 1, 1, 3).to_vector() == V{1, 2, 5, 6, 9, 10});
  CHECK_THROWS_WITH_AS(slice(t, 0, 0, 5, 0), "slice: step must be positive, got 0", Error);
  CHECK_THROWS_WITH_AS(slice(t, 1, 0, 5),
                       "slice: dim 1 is out of range for a tensor with 1 dimension (expected -1 to 0)",
                       Error);
}

TEST_CASE("narrow takes length elements from start") {
  Tensor t = iota({3, 4});
  CHECK(narrow(t, 1, 1, 2).to_vector() == V{1, 2, 5, 6, 9, 10});
  CHECK(narrow(t, 0, 3, 0).numel() == 0);
  CHECK_THROWS_WITH_AS(narrow(t, 0, 1, 3),
                       "narrow: [1, 4) is out of range for dim 0 of size 3 (shape (3, 4))", Error);
}

TEST_CASE("select removes the dim it indexes") {
  Tensor t = iota({3, 4});
  Tensor row = select(t, 0, 1);
  CHECK(row.shape() == Shape{4});
  CHECK(row.offset() == 4);
  CHECK(row.to_vector() == V{4, 5, 6, 7});
  Tensor col = select(t, -1, -1);
  CHECK(col.strides() == Strides{4});
  CHECK(col.to_vector() == V{3, 7, 11});
  CHECK(select(row, 0, 2).dim() == 0);
  CHECK(select(row, 0, 2).item() == 6);
  CHECK_THROWS_WITH_AS(select(t, 0, 3), "select: index 3 is out of range for dim 0 of size 3 (shape (3, 4))",
                       Error);
  CHECK_THROWS_WITH_AS(select(t, 1, -5),
                       "select: index -5 is out of range for dim 1 of size 4 (shape (3, 4))", Error);
}

TEST_CASE("expand repeats size-1 dims with stride 0") {
  Tensor t = reshape(Tensor{1, 2}, {2, 1});
  Tensor e = expand(t, {3, 2, 4});
  CHECK(e.shape() == Shape{3, 2, 4});
  CHECK(e.strides() == Strides{0, 1, 0});
  CHECK(e.storage() == t.storage());
  CHECK(e.to_vector() == V{1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2});
  CHECK(expand(t, {-1, 3}).shape() == Shape{2, 3});
  CHECK(expand(scalar(7), {2}).to_vector() == V{7, 7});
  CHECK_THROWS_WITH_AS(expand(t, {2}), "expand: cannot expand (2, 1) to fewer dims (2,)", Error);
  CHECK_THROWS_WITH_AS(expand(t, {3, 1}), "expand: cannot expand (2, 1) to (3, 1): size 2 at dim 0 is not 1",
                       Error);
  CHECK_THROWS_WITH_AS(expand(t, {-1, 2, 1}), "expand: a new leading dim needs a size, got -1 in (-1, 2, 1)",
                       Error);
}

TEST_CASE("unsqueeze and squeeze add and remove size-1 dims") {
  Tensor t = iota({2, 3});
  CHECK(unsqueeze(t, 0).shape() == Shape{1, 2, 3});
  CHECK(unsqueeze(t, -1).shape() == Shape{2, 3, 1});
  CHECK(unsqueeze(t, 1).shape() == Shape{2, 1, 3});
  CHECK(unsqueeze(t, 1).is_contiguous());
  CHECK(unsqueeze(t, 1).storage() == t.storage());
  CHECK(unsqueeze(scalar(1), 0).shape() == Shape{1});
  Tensor u = iota({1, 2, 1, 3});
  CHECK(squeeze(u).shape() == Shape{2, 3});
  CHECK(squeeze(u, 2).shape() == Shape{1, 2, 3});
  CHECK(squeeze(u, 1).shape() == Shape{1, 2, 1, 3});  // not size 1: unchanged
  CHECK(squeeze(u, -4).shape() == Shape{2, 1, 3});
  CHECK(squeeze(ones({1, 1})).dim() == 0);
  CHECK_THROWS_WITH_AS(unsqueeze(t, 3),
                       "unsqueeze: dim 3 is out of range for a tensor with 3 dimensions (expected -3 to 2)",
                       Error);
  CHECK_THROWS_WITH_AS(squeeze(t, 2),
                       "squeeze: dim 2 is out of range for a tensor with 2 dimensions (expected -2 to 1)",
                       Error);
}

TEST_CASE("contiguous returns contiguous input itself and copies the rest") {
  Tensor t = iota({2, 3});
  CHECK(contiguous(t).storage() == t.storage());
  Tensor tt = transpose(t, 0, 1);
  Tensor c = contiguous(tt);
  CHECK(c.storage() != t.storage());
  CHECK(c.is_contiguous());
  CHECK(c.strides() == Strides{2, 1});
  CHECK(c.to_vector() == V{0, 3, 1, 4, 2, 5});
}

TEST_CASE("clone always copies") {
  Tensor t = iota({2, 2});
  Tensor c = clone(t);
  CHECK(c.storage() != t.storage());
  c.at({0, 0}) = 9;
  CHECK(t.at({0, 0}) == 0);
  CHECK(clone(expand(Tensor{1, 2}, {2, 2})).to_vector() == V{1, 2, 1, 2});
}

TEST_CASE("is_contiguous ignores size-1 and size-0 dims") {
  CHECK(iota({3, 1}).is_contiguous());
  CHECK(transpose(iota({3, 1}), 0, 1).is_contiguous());
  CHECK(slice(iota({4, 4}), 1, 0, 4, 2).is_contiguous() == false);
  CHECK(slice(iota({4, 4}), 0, 1, 3).is_contiguous());
  CHECK(slice(iota({4, 4}), 1, 0, 0).is_contiguous());
}

TEST_CASE("view splits and merges dims of non-contiguous data when strides allow") {
  // Columns 0..2 of a (4, 6): rows are 6 apart, so a row's 3 numbers can split
  // or gain a 1, and the rows can split, but a row cannot merge with the next.
  Tensor cols = slice(iota({4, 6}), 1, 0, 3);
  Tensor a = view(cols, {2, 2, 3});
  CHECK(a.storage() == cols.storage());
  CHECK(a.strides() == Strides{12, 6, 1});
  CHECK(a.to_vector() == cols.to_vector());
  CHECK(view(cols, {4, 3, 1}).strides() == Strides{6, 1, 1});
  CHECK(view(cols, {1, 4, 3}).shape() == Shape{1, 4, 3});
  CHECK_THROWS_AS(view(cols, {12}), Error);
  CHECK_THROWS_AS(view(cols, {6, 2}), Error);
  // Heads out of a transposed (T, B, D): the last dim is whole, so it splits.
  Tensor tbd = transpose(iota({2, 3, 4}), 0, 1);  // (3, 2, 4), strides (4, 12, 1)
  Tensor heads = view(tbd, {3, 2, 2, 2});
  CHECK(heads.storage() == tbd.storage());
  CHECK(heads.strides() == Strides{4, 12, 2, 1});
  CHECK(heads.to_vector() == tbd.to_vector());
  // An expanded dim (stride 0) splits into stride-0 dims.
  Tensor e = expand(iota({3, 1}), {3, 4});
  CHECK(view(e, {3, 2, 2}).strides() == Strides{1, 0, 0});
  CHECK(view(e, {3, 2, 2}).to_vector() == e.to_vector());
  CHECK_THROWS_AS(view(e, {12}), Error);
}

// Whether some strides make `shape` walk t's elements in t's row-major order:
// the offsets of t's elements, read in that order, must be affine in the new
// (i, j, k). Brute force, as a check on view's run-by-run rule.
bool viewable(const Tensor& t, const Shape& shape) {
  std::vector<int64_t> offsets;
  std::vector<int64_t> index(size_t(t.dim()), 0);
  for (int64_t e = 0; e < t.numel(); ++e) {
    int64_t offset = 0;
    for (int64_t d = 0; d < t.dim(); ++d) offset += index[size_t(d)] * t.stride(d);
    offsets.push_back(offset);
    for (int64_t d = t.dim() - 1; d >= 0 && ++index[size_t(d)] == t.size(d); --d) index[size_t(d)] = 0;
  }
  int64_t n1 = shape[1], n2 = shape[2];
  auto at = [&](int64_t i, int64_t j, int64_t k) { return offsets[size_t((i * n1 + j) * n2 + k)]; };
  int64_t s0 = shape[0] > 1 ? at(1, 0, 0) - at(0, 0, 0) : 0, s1 = n1 > 1 ? at(0, 1, 0) - at(0, 0, 0) : 0,
          s2 = n2 > 1 ? at(0, 0, 1) - at(0, 0, 0) : 0;
  for (int64_t i = 0; i < shape[0]; ++i)
    for (int64_t j = 0; j < n1; ++j)
      for (int64_t k = 0; k < n2; ++k)
        if (at(i, j, k) != at(0, 0, 0) + i * s0 + j * s1 + k * s2) return false;
  return true;
}

TEST_CASE("view succeeds exactly when strides can express the shape, and reads row-major order") {
  Tensor x = iota({2, 3, 4});
  std::vector<Tensor> sources = {x,
                                 transpose(x, 0, 1),
                                 transpose(x, 1, 2),
                                 permute(x, {2, 0, 1}),
                                 slice(x, 2, 1, 3),
                                 slice(x, 0, 1, 2),
                                 slice(x, 1, 0, 3, 2),
                                 unsqueeze(transpose(x, 0, 2), 1),
                                 select(x, 1, 1),
                                 expand(iota({2, 1, 4}), {2, 3, 4})};
  int viewed = 0, refused = 0;
  for (const Tensor& t : sources) {
    int64_t n = t.numel();
    for (int64_t a = 1; a <= n; ++a)
      for (int64_t b = 1; a * b <= n; ++b) {
        if (n % (a * b)) continue;
        Shape shape{a, b, n / (a * b)};
        CAPTURE(t.shape());
        CAPTURE(t.strides());
        CAPTURE(shape);
        CHECK(reshape(t, shape).to_vector() == t.to_vector());
        if (viewable(t, shape)) {
          Tensor v = view(t, shape);
          CHECK(v.storage() == t.storage());
          CHECK(v.to_vector() == t.to_vector());
          ++viewed;
        } else {
          CHECK_THROWS_AS(view(t, shape), Error);
          ++refused;
        }
      }
  }
  CHECK(viewed > 0);
  CHECK(refused > 0);
}

TEST_CASE("copy_ writes through a view, broadcasting src") {
  Tensor t = zeros({3, 4});
  copy_(slice(t, 1, 0, 4, 2), Tensor{{1, 2}, {3, 4}, {5, 6}});
  CHECK(t.to_vector() == V{1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0});
  copy_(select(t, 1, 1), scalar(7));
  CHECK(t.to_vector() == V{1, 7, 2, 0, 3, 7, 4, 0, 5, 7, 6, 0});
  copy_(transpose(t, 0, 1), Tensor{9, 8, 7});  // each row of t.T gets (9, 8, 7)
  CHECK(t.to_vector() == V{9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7});
  CHECK_THROWS_WITH_AS(
      copy_(t, Tensor{1, 2}),
      "copy_: cannot broadcast (3, 4) with (2,): sizes 4 and 2 at dim 1 differ and neither is 1", Error);
  CHECK_THROWS_WITH_AS(copy_(Tensor{1, 2, 3}, zeros({2, 3})),
                       "copy_: cannot write a tensor of shape (2, 3) into one of shape (3,)", Error);
}

TEST_CASE("fill_ writes through a view") {
  Tensor t = zeros({3, 3});
  fill_(select(t, 1, 2), 5);
  fill_(slice(select(t, 0, 0), 0, 0, 2), 1);
  CHECK(t.to_vector() == V{1, 1, 5, 0, 0, 5, 0, 0, 5});
}

TEST_CASE("views of views compose") {
  Tensor t = iota({4, 6});
  Tensor v = select(slice(transpose(t, 0, 1), 0, 1, 6, 2), 1, 3);  // t[3, 1::2]
  CHECK(v.to_vector() == V{19, 21, 23});
  Tensor w = reshape(slice(t, 1, 0, 6, 3), {-1});  // non-contiguous: copies
  CHECK(w.to_vector() == V{0, 3, 6, 9, 12, 15, 18, 21});
}

TEST_CASE("Shape prints like PyTorch and holds at most 8 dims") {
  CHECK(to_string(Shape{2, 3}) == "(2, 3)");
  CHECK(to_string(Shape{4}) == "(4,)");
  CHECK(to_string(Shape{}) == "()");
  CHECK(contiguous_strides({2, 3, 4}) == Strides{12, 4, 1});
  CHECK_THROWS_WITH_AS(Shape::filled(9, 1), "Shape: at most 8 dimensions are supported", Error);
  CHECK(broadcast_shapes({2, 1, 3}, {4, 1}, "op") == Shape{2, 4, 3});
  CHECK_THROWS_WITH_AS(
      broadcast_shapes({2, 3}, {4}, "add"),
      "add: cannot broadcast (2, 3) with (4,): sizes 3 and 4 at dim 1 differ and neither is 1", Error);
}
