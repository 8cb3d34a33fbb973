// Sizes that multiply past int64 (tensor/shape.h), and memory the system will
// not give: every op that makes a shape refuses the first with a heed::Error
// naming the op and the shape, where a wrapped product used to make a tensor
// smaller than its shape (and every write to it land out of bounds); the second
// is a heed::Error with the bytes asked for, not a bare std::bad_alloc.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

// The allocation tests ask for more than any machine has. AddressSanitizer
// aborts on such a request unless told to return null (then the pool throws
// std::bad_alloc as it does outside the sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define HEED_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEED_TEST_ASAN 1
#endif
#endif
#if defined(HEED_TEST_ASAN)
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif

using namespace heed;

namespace {
constexpr int64_t k2_32 = int64_t{1} << 32;
constexpr int64_t k2_62 = int64_t{1} << 62;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
}  // namespace

TEST_CASE("zeros refuses sizes whose product passes 2^63 - 1 instead of wrapping it") {
  // (2^62 + 1) * 4 wraps to 4 and 2^32 * 2^32 to 0: a 4-float buffer behind a (2^62 + 1, 4) shape.
  CHECK_THROWS_WITH_AS(zeros({k2_62 + 1, 4}),
                       "zeros: shape (4611686018427387905, 4) has too many elements: its sizes multiply past "
                       "2^63 - 1, the most an int64 can count; check the sizes",
                       Error);
  CHECK_THROWS_WITH_AS(zeros({k2_32, k2_32}),
                       doctest::Contains("zeros: shape (4294967296, 4294967296) has too many elements"),
                       Error);
  CHECK_THROWS_WITH_AS(ones({k2_32, k2_32}), doctest::Contains("ones: shape"), Error);
  CHECK_THROWS_WITH_AS(full({k2_32, k2_32}, 1.0f), doctest::Contains("full: shape"), Error);
  CHECK_THROWS_WITH_AS(empty({k2_32, k2_32}), doctest::Contains("empty: shape"), Error);
  Generator gen(0);
  CHECK_THROWS_WITH_AS(randn({k2_32, k2_32}, gen), doctest::Contains("randn: shape"), Error);
  CHECK_THROWS_WITH_AS(rand({k2_32, k2_32}, gen), doctest::Contains("rand: shape"), Error);
  CHECK_THROWS_WITH_AS(from_vector({}, {k2_32, k2_32}), doctest::Contains("from_vector: shape"), Error);
}

TEST_CASE("a zero-size dim does not excuse the others: their product must fit int64 too") {
  // Numel 0, but a reduction over dims 1 and 2 would count R = 2^64 (and wrap to 0).
  CHECK_THROWS_WITH_AS(zeros({0, k2_32, k2_32}),
                       doctest::Contains("zeros: shape (0, 4294967296, 4294967296)"), Error);
  CHECK_THROWS_AS(zeros({k2_32, k2_32, 0}), Error);  // the order of the dims does not matter
  CHECK(zeros({0, k2_62}).numel() == 0);
  CHECK(zeros({0, k2_62}).strides() == Strides{k2_62, 1});
}

TEST_CASE("negative sizes are refused wherever a shape is given") {
  CHECK_THROWS_WITH_AS(zeros({2, -3}), "zeros: negative size in shape (2, -3)", Error);
  CHECK_THROWS_WITH_AS(empty({-1, 0}), "empty: negative size in shape (-1, 0)", Error);
  // -1 * -1 = 1 would pass a product check alone
  CHECK_THROWS_WITH_AS(ones({-1, -1}), "ones: negative size in shape (-1, -1)", Error);
  Generator gen(0);
  CHECK_THROWS_WITH_AS(randn({-4}, gen), "randn: negative size in shape (-4,)", Error);
  CHECK_THROWS_WITH_AS(view(zeros({4}), {-2, -2}), "view: invalid size -2 in (-2, -2)", Error);
  CHECK_THROWS_WITH_AS(expand(zeros({1}), {-2}), doctest::Contains("expand: cannot expand (1,) to (-2,)"),
                       Error);
  CHECK_THROWS_WITH_AS(expand(zeros({1}), {-3, 1}),
                       "expand: a new leading dim needs a size, got -3 in (-3, 1)", Error);
}

TEST_CASE("Shape::numel throws instead of wrapping, for a shape no tensor has") {
  CHECK_THROWS_WITH_AS(Shape({k2_32, k2_32}).numel(),
                       doctest::Contains("numel: shape (4294967296, 4294967296)"), Error);
  // The same rule as a tensor's shape, in any order of the dims.
  CHECK_THROWS_AS(Shape({k2_32, k2_32, 0}).numel(), Error);
  CHECK_THROWS_AS(Shape({0, k2_32, k2_32}).numel(), Error);
  CHECK(Shape({kMax}).numel() == kMax);
  CHECK(Shape({0, kMax}).numel() == 0);
  CHECK(Shape{}.numel() == 1);
}

TEST_CASE("expand refuses a view of 2^64 elements; a reduction over a huge view errors, never returns 0") {
  // Over one float this view would be 2^64 elements: numel wrapped to 0 and sum returned 0.
  CHECK_THROWS_WITH_AS(expand(scalar(1), {k2_32, k2_32}),
                       doctest::Contains("expand: shape (4294967296, 4294967296) has too many elements"),
                       Error);
  // 2^45 elements fit an int64: the view is O(1), and sum, which copies it first, says it cannot have 128
  // TiB.
  Tensor big = expand(scalar(1), {int64_t{1} << 23, int64_t{1} << 22});
  CHECK(big.numel() == int64_t{1} << 45);
  CHECK_THROWS_WITH_AS(sum(big), doctest::Contains("sum: cannot allocate (8388608, 4194304): 128 TiB"),
                       Error);
  CHECK_THROWS_WITH_AS(amax(big, {1}), doctest::Contains("amax: cannot allocate (8388608, 4194304)"), Error);
  CHECK(sum(expand(scalar(1), {1000, 1000})).item() == 1e6f);
}

TEST_CASE("view and reshape refuse requested sizes whose product wraps to the element count") {
  Tensor t = zeros({4});
  // (2^62 + 1) * 4 wraps to 4 = t.numel(): it used to be a view of 2^64 elements over 4 floats.
  CHECK_THROWS_WITH_AS(view(t, {k2_62 + 1, 4}),
                       "view: cannot reshape (4,) (4 elements) into (4611686018427387905, 4): its sizes "
                       "multiply past 2^63 - 1",
                       Error);
  CHECK_THROWS_WITH_AS(reshape(t, {k2_62 + 1, 4}), doctest::Contains("reshape: cannot reshape (4,)"), Error);
  // The known sizes of an inferred shape wrap to 0, then to 4: both refused.
  CHECK_THROWS_AS(view(t, {-1, k2_32, k2_32}), Error);
  CHECK_THROWS_AS(view(t, {-1, k2_62 + 1, 4}), Error);
  CHECK(view(t, {-1, 2}).shape() == Shape{2, 2});
}

TEST_CASE("ops that combine the sizes of two tensors check the result's count") {
  Tensor column = expand(scalar(1), {k2_32, 1}), row = expand(scalar(1), {1, k2_32});
  CHECK_THROWS_WITH_AS(column + row, doctest::Contains("add: shape (4294967296, 4294967296) has too many"),
                       Error);
  CHECK_THROWS_WITH_AS(matmul(column, row), doctest::Contains("matmul: shape (4294967296, 4294967296)"),
                       Error);
  CHECK_THROWS_WITH_AS(where(column, column, row), doctest::Contains("where: shape"), Error);
  // (2^62 + 2^62) along dim 0 passes 2^63 - 1
  Tensor half = expand(scalar(1), {k2_62});
  CHECK_THROWS_WITH_AS(
      cat({half, half}, 0),
      "cat: the sizes along dim 0 add up past 2^63 - 1 at tensor 1 of shape (4611686018427387904,)", Error);
  CHECK_THROWS_WITH_AS(stack({half, half, half}, 0),
                       doctest::Contains("stack: shape (3, 4611686018427387904)"), Error);
  // (2^62, 1) with 4 indices along dim 1 is (2^62, 4)
  CHECK_THROWS_WITH_AS(index_select(expand(scalar(1), {k2_62, 1}), 1, zeros({4})),
                       doctest::Contains("index_select: shape (4611686018427387904, 4) has too many"), Error);
}

TEST_CASE("arange refuses a count past int64 and non-finite bounds instead of returning 0 elements") {
  CHECK_THROWS_WITH_AS(arange(0.0f, 1e30f),
                       "arange: [0, 1e+30) in steps of 1 holds 1e+30 elements, more than an int64 can count; "
                       "check the range and the step",
                       Error);
  CHECK_THROWS_WITH_AS(arange(0.0f, std::numeric_limits<float>::infinity()),
                       "arange: start 0, end inf and step 1 must be finite", Error);
  CHECK_THROWS_AS(arange(std::numeric_limits<float>::quiet_NaN(), 1.0f), Error);
  CHECK_THROWS_AS(arange(0.0f, 1.0f, std::numeric_limits<float>::quiet_NaN()), Error);
  CHECK(arange(0.0f, 0x1p100f, 0x1p97f).numel() == 8);
  CHECK(arange(1e30f, 0.0f).numel() == 0);  // an empty range is fine however far apart
}

TEST_CASE("slice, narrow, split and chunk take huge steps, lengths and counts without overflow") {
  Tensor t = arange(10);
  // end - start + step - 1 and the stride times step both passed int64.
  Tensor s = slice(t, 0, 3, 10, kMax);
  CHECK(s.shape() == Shape{1});
  CHECK(s.item() == 3.0f);
  CHECK(slice(t, 0, 0, 10, 4).to_vector() == std::vector<float>{0, 4, 8});
  CHECK(slice(t, 0, 10, 10, kMax).numel() == 0);
  // 1 + (2^63 - 1) wrapped negative and passed the range check.
  CHECK_THROWS_WITH_AS(narrow(t, 0, 1, kMax),
                       "narrow: [1, 9223372036854775807) is out of range for dim 0 of size 10 (shape (10,))",
                       Error);
  CHECK_THROWS_AS(narrow(t, 0, kMax, 1), Error);
  // split's at += size and chunk's n + chunks - 1 passed int64.
  CHECK(split(t, kMax, 0).size() == 1);
  CHECK(chunk(t, kMax, 0).size() == 10);
  CHECK(chunk(t, 4, 0).size() == 4);  // 3, 3, 3, 1
}

// ------------------------------------------------------------- allocation
// 2^47 bytes: more than a 47-bit user address space holds, so no overcommit
// setting lets it succeed (a 4 TiB request can, where overcommit is on).
TEST_CASE("an allocation the system refuses is a heed::Error naming the op, the shape and the bytes") {
  const int64_t rows = int64_t{1} << 23, cols = int64_t{1} << 22;
  CHECK_THROWS_WITH_AS(
      zeros({rows, cols}),
      "zeros: cannot allocate (8388608, 4194304): 128 TiB (140737488355328 bytes) of float32, "
      "more memory than the system will give; use smaller sizes (a smaller batch, sequence or "
      "model), or check that the shape is the one you meant",
      Error);
  CHECK_THROWS_WITH_AS(empty({rows, cols}), doctest::Contains("empty: cannot allocate (8388608, 4194304)"),
                       Error);
  Generator gen(0);
  CHECK_THROWS_WITH_AS(randn({rows, cols}, gen), doctest::Contains("randn: cannot allocate"), Error);
  CHECK_THROWS_WITH_AS(matmul(expand(scalar(1), {rows, 1}), expand(scalar(1), {1, cols})),
                       doctest::Contains("matmul: cannot allocate (8388608, 4194304): 128 TiB"), Error);
  // Counts whose bytes pass 2^63 are refused before the system is asked.
  CHECK_THROWS_WITH_AS(
      empty({k2_62}),
      "empty: cannot allocate (4611686018427387904,): 16 EiB of float32, past the 2^63 bytes a "
      "64-bit machine can address; check the sizes",
      Error);
  // The pool is unharmed: the next allocation works.
  CHECK(zeros({3}).to_vector() == std::vector<float>{0, 0, 0});
}
