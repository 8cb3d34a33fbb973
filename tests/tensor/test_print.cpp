// Printing (tensor/print.cpp): the exact strings PyTorch prints for the same
// float32 tensors.
#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include "tensor/ops.h"

using namespace heed;

namespace {
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("a matrix prints with four decimals, one row per line, aligned under the first") {
  CHECK(to_string(Tensor{{1.5f, 2}, {3, 4}}) ==
        "tensor([[1.5000, 2.0000],\n"
        "        [3.0000, 4.0000]])");
  CHECK(to_string(Tensor{-0.25f, 12.125f}) == "tensor([-0.2500, 12.1250])");
  CHECK(to_string(Tensor{{-1.5f, 20}, {3, 4}}) ==
        "tensor([[-1.5000, 20.0000],\n"
        "        [ 3.0000,  4.0000]])");
}

TEST_CASE("all whole numbers print as 1., 2., right-aligned") {
  CHECK(to_string(Tensor{1, 2, 3}) == "tensor([1., 2., 3.])");
  CHECK(to_string(Tensor{1, -10, 100}) == "tensor([  1., -10., 100.])");
  CHECK(to_string(zeros({2})) == "tensor([0., 0.])");
  CHECK(to_string(Tensor{-0.0f, 1}) == "tensor([-0., 1.])");
}

TEST_CASE("scientific notation when magnitudes span more than 1000x, exceed 1e8, or go below 1e-4") {
  CHECK(to_string(Tensor{1e-5f, 1}) == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(to_string(Tensor{-1e-5f, 1}) == "tensor([-1.0000e-05,  1.0000e+00])");
  CHECK(to_string(Tensor{1, 10000}) == "tensor([1.0000e+00, 1.0000e+04])");
  CHECK(to_string(Tensor{1, 1000}) == "tensor([   1., 1000.])");
  CHECK(to_string(Tensor{2e8f}) == "tensor([2.0000e+08])");
  CHECK(to_string(Tensor{0.5f, 100}) == "tensor([  0.5000, 100.0000])");
  CHECK(to_string(Tensor{0, 1e-5f}) == "tensor([0.0000e+00, 1.0000e-05])");
}

TEST_CASE("NaN and infinity print bare and do not choose the format") {
  CHECK(to_string(Tensor{kNaN, 1}) == "tensor([nan, 1.])");
  CHECK(to_string(Tensor{1.5f, kInf}) == "tensor([1.5000,    inf])");
  CHECK(to_string(Tensor{-kInf, kNaN}) == "tensor([-inf, nan])");
}

TEST_CASE("a 0-dim tensor prints its value alone") {
  CHECK(to_string(scalar(3.5f)) == "tensor(3.5000)");
  CHECK(to_string(scalar(3)) == "tensor(3.)");
  CHECK(to_string(scalar(-1e-6f)) == "tensor(-1.0000e-06)");
}

TEST_CASE("empty and undefined tensors") {
  CHECK(to_string(zeros({0})) == "tensor([])");
  CHECK(to_string(zeros({0, 3})) == "tensor([], size=(0, 3))");
  CHECK(to_string(zeros({2, 0, 3})) == "tensor([], size=(2, 0, 3))");
  CHECK(to_string(Tensor()) == "tensor(undefined)");
}

TEST_CASE("3-D tensors put a blank line between matrices") {
  CHECK(to_string(reshape(arange(8), {2, 2, 2})) ==
        "tensor([[[0., 1.],\n"
        "         [2., 3.]],\n"
        "\n"
        "        [[4., 5.],\n"
        "         [6., 7.]]])");
}

TEST_CASE("views print their own elements") {
  Tensor t = reshape(arange(6), {2, 3});
  CHECK(to_string(transpose(t, 0, 1)) ==
        "tensor([[0., 3.],\n"
        "        [1., 4.],\n"
        "        [2., 5.]])");
  CHECK(to_string(slice(select(t, 0, 1), 0, 0, 3, 2)) == "tensor([3., 5.])");
  CHECK(to_string(expand(full({1, 1}, 0.5f), {1, 3})) == "tensor([[0.5000, 0.5000, 0.5000]])");
}

TEST_CASE("long rows wrap at 80 columns") {
  CHECK(to_string(arange(20)) ==
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19.])");
}

TEST_CASE("more than 1000 elements are summarized with the first and last 3 along each dim") {
  CHECK(to_string(arange(1001)) == "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])");
  CHECK(to_string(arange(1000)).find("...") == std::string::npos);  // 1000 elements print in full
  CHECK(to_string(ones({40, 40})) ==
        "tensor([[1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        ...,\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
        "        [1., 1., 1.,  ..., 1., 1., 1.]])");
  // Only the printed elements choose the format: the hidden 1e-9 does not force scientific notation.
  Tensor t = ones({2000});
  t.at({1000}) = 1e-9f;
  CHECK(to_string(t) == "tensor([1., 1., 1.,  ..., 1., 1., 1.])");
}

TEST_CASE("summarized 3-D tensors elide whole matrices") {
  CHECK(to_string(reshape(arange(7 * 2 * 100), {7, 2, 100}) + 100) ==
        "tensor([[[ 100.,  101.,  102.,  ...,  197.,  198.,  199.],\n"
        "         [ 200.,  201.,  202.,  ...,  297.,  298.,  299.]],\n"
        "\n"
        "        [[ 300.,  301.,  302.,  ...,  397.,  398.,  399.],\n"
        "         [ 400.,  401.,  402.,  ...,  497.,  498.,  499.]],\n"
        "\n"
        "        [[ 500.,  501.,  502.,  ...,  597.,  598.,  599.],\n"
        "         [ 600.,  601.,  602.,  ...,  697.,  698.,  699.]],\n"
        "\n"
        "        ...,\n"
        "\n"
        "        [[ 900.,  901.,  902.,  ...,  997.,  998.,  999.],\n"
        "         [1000., 1001., 1002.,  ..., 1097., 1098., 1099.]],\n"
        "\n"
        "        [[1100., 1101., 1102.,  ..., 1197., 1198., 1199.],\n"
        "         [1200., 1201., 1202.,  ..., 1297., 1298., 1299.]],\n"
        "\n"
        "        [[1300., 1301., 1302.,  ..., 1397., 1398., 1399.],\n"
        "         [1400., 1401., 1402.,  ..., 1497., 1498., 1499.]]])");
}

TEST_CASE("operator<< writes the same string") {
  std::ostringstream out;
  out << Tensor{{1, 2}, {3, 4}};
  CHECK(out.str() == "tensor([[1., 2.],\n        [3., 4.]])");
}
