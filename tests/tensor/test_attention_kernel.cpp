// The one-kernel attention forward against its twin, the three ops it fuses
// (matmul, masked_softmax, matmul): odd sizes, every mask broadcast, views,
// empty tensors, and the same bits for any thread count.
#include <doctest/doctest.h>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;

namespace {

AttentionResult composed(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale) {
  Tensor w = masked_softmax(matmul(q * scale, transpose(k, -2, -1)), mask, -1);
  return {matmul(w, v), w};
}

// About 30% hidden, at random: short rows are sometimes fully hidden.
Tensor some_mask(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return lt(uniform(shape, 0.0f, 1.0f, gen), scalar(0.3f));
}

}  // namespace

TEST_CASE("attention equals matmul, masked_softmax and matmul at odd sizes, for every mask broadcast") {
  for (int64_t T : {1, 3, 17, 65})
    for (int64_t S : {1, 5, 64, 65})
      for (int64_t Dh : {3, 16, 17}) {
        Tensor q = randn_({2, 3, T, Dh}, 1), k = randn_({2, 3, S, Dh}, 2), v = randn_({2, 3, S, 7}, 3);
        for (const Tensor& mask : {Tensor(), some_mask({T, S}, 4), some_mask({2, 1, 1, S}, 5),
                                   some_mask({2, 3, T, S}, 6), some_mask({3, T, S}, 7)}) {
          INFO("T ", T, " S ", S, " Dh ", Dh, " mask ", mask.defined() ? to_string(mask.shape()) : "none");
          AttentionResult got = attention(q, k, v, mask, 0.25f), want = composed(q, k, v, mask, 0.25f);
          CHECK(allclose(got.weights, want.weights, 1e-6f, 1e-7f));
          CHECK(allclose(got.output, want.output, 1e-5f, 1e-6f));
        }
      }
}

TEST_CASE("attention reads strided views (heads split by a transpose) and any number of leading dims") {
  Tensor x = randn_({2, 9, 12}, 8);                       // (B, T, H*Dh) with H = 3, Dh = 4
  Tensor heads = transpose(view(x, {2, 9, 3, 4}), 1, 2);  // (B, H, T, Dh), not contiguous
  Tensor v = randn_({2, 3, 9, 5}, 9);
  AttentionResult got = attention(heads, heads, v, Tensor(), 0.5f);
  CHECK(allclose(got.output, composed(heads, heads, v, Tensor(), 0.5f).output, 1e-5f, 1e-6f));
  Tensor q3 = randn_({4, 6, 8}, 10), k3 = randn_({4, 7, 8}, 11), v3 = randn_({4, 7, 2}, 12);
  CHECK(allclose(attention(q3, k3, v3, Tensor(), 1.0f).output, composed(q3, k3, v3, Tensor(), 1.0f).output,
                 1e-5f, 1e-6f));
  Tensor q2 = randn_({5, 3}, 13), k2 = randn_({6, 3}, 14), v2 = randn_({6, 4}, 15);
  CHECK(allclose(attention(q2, k2, v2, Tensor(), 1.0f).weights, composed(q2, k2, v2, Tensor(), 1.0f).weights,
                 1e-6f, 1e-7f));
}

TEST_CASE("attention: a fully hidden query gets zeros, and empty sizes give empty or zero results") {
  Tensor q = randn_({1, 2, 4}, 16), k = randn_({1, 3, 4}, 17), v = randn_({1, 3, 2}, 18);
  AttentionResult r = attention(q, k, v, Tensor{{{0, 1, 0}, {1, 1, 1}}}, 1.0f);
  CHECK(allclose(select(select(r.weights, 0, 0), 0, 1), zeros({3})));
  CHECK(allclose(select(select(r.output, 0, 0), 0, 1), zeros({2})));
  CHECK(attention(zeros({1, 0, 4}), k, v, Tensor(), 1.0f).output.shape() == Shape{1, 0, 2});
  AttentionResult no_keys = attention(q, zeros({1, 0, 4}), zeros({1, 0, 2}), Tensor(), 1.0f);
  CHECK(no_keys.weights.shape() == Shape{1, 2, 0});
  CHECK(allclose(no_keys.output, zeros({1, 2, 2})));
}

TEST_CASE("attention gives the same bits on one thread and on all of them") {
  Tensor q = randn_({4, 4, 33, 16}, 19), k = randn_({4, 4, 65, 16}, 20), v = randn_({4, 4, 65, 16}, 21);
  Tensor mask = some_mask({4, 1, 33, 65}, 22);
  const int all = num_threads();
  set_num_threads(1);
  AttentionResult one = attention(q, k, v, mask, 0.25f);
  set_num_threads(all);
  AttentionResult many = attention(q, k, v, mask, 0.25f);
  CHECK(one.output.to_vector() == many.output.to_vector());
  CHECK(one.weights.to_vector() == many.weights.to_vector());
}

TEST_CASE("attention_into writes the bits of attention into slices of larger results") {
  Tensor q = randn_({5, 3, 17, 8}, 23), k = randn_({5, 3, 9, 8}, 24), v = randn_({5, 3, 9, 6}, 25);
  Tensor mask = some_mask({5, 1, 17, 9}, 26);
  const AttentionResult want = attention(q, k, v, mask, 0.3f);
  // (B, H, T, Dv) over (B, T, H, Dv) memory, and weights with room on both sides.
  const AttentionResult all{transpose(full({7, 17, 3, 6}, -1.0f), 1, 2), full({7, 3, 17, 9}, -1.0f)};
  for (int64_t b0 : {0, 2, 4}) {
    const int64_t n = std::min<int64_t>(2, 5 - b0);
    auto rows = [&](const Tensor& x, int64_t at) { return narrow(x, 0, at, n); };
    attention_into(rows(q, b0), rows(k, b0), rows(v, b0), rows(mask, b0), 0.3f,
                   {rows(all.output, b0 + 1), rows(all.weights, b0 + 1)});
  }
  CHECK(contiguous(narrow(all.output, 0, 1, 5)).to_vector() == contiguous(want.output).to_vector());
  CHECK(contiguous(narrow(all.weights, 0, 1, 5)).to_vector() == want.weights.to_vector());
  CHECK(allclose(select(all.weights, 0, 0), full({3, 17, 9}, -1.0f)));  // untouched around the slices
  CHECK(allclose(select(all.output, 0, 6), full({3, 17, 6}, -1.0f)));
  CHECK_THROWS_WITH_AS(attention_into(q, k, v, mask, 0.3f, {want.output, narrow(want.weights, 1, 0, 2)}),
                       doctest::Contains("attention: results of shapes (5, 3, 17, 6) and (5, 2, 17, 9) given "
                                         "for an output (5, 3, 17, 6) and weights (5, 3, 17, 9)"),
                       Error);
  CHECK_THROWS_WITH_AS(
      attention_into(q, k, v, mask, 0.3f, {want.output, transpose(empty({5, 3, 9, 17}), 2, 3)}),
      doctest::Contains("the weights whole (T, S) planes"), Error);
}

TEST_CASE("attention names the shapes it cannot use") {
  CHECK_THROWS_WITH_AS(attention(zeros({2, 3, 4}), zeros({2, 5, 3}), zeros({2, 5, 3}), Tensor(), 1.0f),
                       doctest::Contains("need (..., T, Dh), (..., S, Dh) and (..., S, Dv)"), Error);
  CHECK_THROWS_WITH_AS(attention(zeros({2, 3, 4}), zeros({3, 5, 4}), zeros({3, 5, 4}), Tensor(), 1.0f),
                       doctest::Contains("need the same leading dims"), Error);
  CHECK_THROWS_WITH_AS(attention(zeros({3, 4}), zeros({5, 4}), zeros({5, 4}), zeros({3, 4}), 1.0f),
                       doctest::Contains("attention: cannot broadcast (3, 4) with (3, 5)"), Error);
}
