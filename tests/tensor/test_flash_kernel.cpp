// The fused attention kernels (tensor/kernels/flash_attention.h) against their
// naive twins, forward and backward: odd sizes, T != S, Dh != Dv, bands and
// padding, tile sizes, thread counts (bitwise), empty sizes, rows that see no
// key, and logits near 1e4.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tensor/flash_attention.h"
#include "tensor/kernels/flash_attention.h"
#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;

namespace {

struct Band {
  int64_t left = -1, right = -1;
};

struct Run {
  Tensor out, lse, dq, dk, dv;
};

// q (P, T, Dh), k (P, S, Dh), v (P, S, Dv), dout (P, T, Dv), pad (P, S) or
// undefined, all contiguous: the kernel pair (fused or naive) on them.
Run run(bool naive, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& dout, const Tensor& pad,
        Band band, int64_t br = 0, int64_t bc = 0, float scale = 0.3f) {
  const int64_t P = q.size(0), T = q.size(1), S = k.size(1), Dh = q.size(2), Dv = v.size(2);
  Run r{empty({P, T, Dv}), empty({P, T}), empty({P, T, Dh}), empty({P, S, Dh}), empty({P, S, Dv})};
  auto ptrs = [P](const Tensor& t) {
    std::vector<float*> p(static_cast<size_t>(P));
    for (int64_t i = 0; i < P; ++i) p[size_t(i)] = t.data() + i * (t.numel() / P);
    return p;
  };
  std::vector<float*> qp = ptrs(q), kp = ptrs(k), vp = ptrs(v), gp = ptrs(dout), op = ptrs(r.out),
                      lp = ptrs(r.lse), dqp = ptrs(r.dq), dkp = ptrs(r.dk), dvp = ptrs(r.dv),
                      pp = pad.defined() ? ptrs(pad) : std::vector<float*>();
  kernels::FlashAttentionArgs a{.batch = P, .t = T, .s = S, .dh = Dh, .dv = Dv, .scale = scale};
  a.left = band.left, a.right = band.right, a.block_q = br, a.block_k = bc;
  a.q = qp.data(), a.k = kp.data(), a.v = vp.data(), a.ldq = Dh, a.ldk = Dh, a.ldv = Dv, a.ldo = Dv;
  a.key_padding = pad.defined() ? pp.data() : nullptr;
  a.out = op.data(), a.lse = lp.data();
  a.dout = gp.data(), a.dq = dqp.data(), a.dk = dkp.data(), a.dvv = dvp.data();
  a.ld_dout = Dv, a.ld_dq = Dh, a.ld_dk = Dh, a.ld_dv = Dv;
  if (naive) {
    kernels::flash_attention_forward_naive(a);
    kernels::flash_attention_backward_naive(a);
  } else {
    kernels::flash_attention_forward(a);
    kernels::flash_attention_backward(a);
  }
  return r;
}

// About 30% of the keys hidden, at random.
Tensor some_padding(int64_t P, int64_t S, uint64_t seed) {
  Generator gen(seed);
  return lt(uniform({P, S}, 0.0f, 1.0f, gen), scalar(0.3f));
}

// -inf equal to -inf; every other entry within atol + rtol |b|.
void check_close(const Tensor& a, const Tensor& b, float tol, const char* what) {
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  REQUIRE(x.size() == y.size());
  int bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const bool same_inf = std::isinf(x[i]) && x[i] == y[i];
    if (!same_inf && !(std::fabs(x[i] - y[i]) <= tol * (1.0f + std::fabs(y[i])))) ++bad;
  }
  CHECK_MESSAGE(bad == 0, std::string(what), ": ", bad, " of ", x.size(), " entries differ");
}

void check_runs(const Run& got, const Run& want, float tol = 1e-5f) {
  check_close(got.out, want.out, tol, "out");
  check_close(got.lse, want.lse, tol, "lse");
  check_close(got.dq, want.dq, tol, "dq");
  check_close(got.dk, want.dk, tol, "dk");
  check_close(got.dv, want.dv, tol, "dv");
}

}  // namespace

TEST_CASE("flash attention equals its naive twin, forward and backward, at odd sizes, bands and padding") {
  const Band bands[] = {{-1, -1}, {-1, 0}, {4, 0}, {3, 5}, {0, 0}, {2, -1}};
  for (int64_t T : {1, 3, 17, 65, 129})
    for (int64_t S : {1, 17, 65, 129}) {
      const int64_t P = 2, Dh = 17, Dv = 5;
      Tensor q = randn_({P, T, Dh}, 1), k = randn_({P, S, Dh}, 2), v = randn_({P, S, Dv}, 3),
             g = randn_({P, T, Dv}, 4);
      for (const Band& band : bands)
        for (bool padded : {false, true}) {
          INFO("T ", T, " S ", S, " band ", band.left, " ", band.right, " padded ", padded);
          Tensor pad = padded ? some_padding(P, S, 5) : Tensor();
          check_runs(run(false, q, k, v, g, pad, band), run(true, q, k, v, g, pad, band));
        }
    }
}

TEST_CASE("flash attention: tile sizes change the result by rounding only") {
  const int64_t P = 2, T = 70, S = 97, Dh = 16, Dv = 24;
  Tensor q = randn_({P, T, Dh}, 6), k = randn_({P, S, Dh}, 7), v = randn_({P, S, Dv}, 8),
         g = randn_({P, T, Dv}, 9);
  Tensor pad = some_padding(P, S, 10);
  for (Band band : {Band{-1, -1}, Band{-1, 0}, Band{10, 2}}) {
    Run want = run(true, q, k, v, g, pad, band);
    for (std::pair<int64_t, int64_t> tiles :
         {std::pair<int64_t, int64_t>{1, 1}, {3, 17}, {16, 8}, {64, 64}, {128, 32}, {200, 200}}) {
      INFO("tiles ", tiles.first, " x ", tiles.second, " band ", band.left, " ", band.right);
      check_runs(run(false, q, k, v, g, pad, band, tiles.first, tiles.second), want);
    }
  }
}

TEST_CASE("flash attention gives the same bits on one thread and on two") {
  const int64_t P = 3, T = 130, S = 129, Dh = 32, Dv = 16;
  Tensor q = randn_({P, T, Dh}, 11), k = randn_({P, S, Dh}, 12), v = randn_({P, S, Dv}, 13),
         g = randn_({P, T, Dv}, 14), pad = some_padding(P, S, 15);
  const int all = num_threads();
  set_num_threads(1);
  Run one = run(false, q, k, v, g, pad, {-1, 0});
  set_num_threads(2);
  Run two = run(false, q, k, v, g, pad, {-1, 0});
  set_num_threads(all);
  CHECK(one.out.to_vector() == two.out.to_vector());
  CHECK(one.lse.to_vector() == two.lse.to_vector());
  CHECK(one.dq.to_vector() == two.dq.to_vector());
  CHECK(one.dk.to_vector() == two.dk.to_vector());
  CHECK(one.dv.to_vector() == two.dv.to_vector());
}

TEST_CASE("flash attention: a query that sees no key gets output 0, lse -inf and gradient 0, never NaN") {
  const int64_t P = 2, T = 9, S = 6, Dh = 4, Dv = 3;
  Tensor q = randn_({P, T, Dh}, 16), k = randn_({P, S, Dh}, 17), v = randn_({P, S, Dv}, 18),
         g = randn_({P, T, Dv}, 19);
  Tensor pad = zeros({P, S});
  fill_(select(pad, 0, 1), 1.0f);  // problem 1: every key is padding
  // Causal with S < T: queries 0 .. T - S - 1 sit before the first key.
  for (Band band : {Band{-1, -1}, Band{-1, 0}}) {
    Run r = run(false, q, k, v, g, pad, band), want = run(true, q, k, v, g, pad, band);
    check_runs(r, want);
    for (int64_t i = 0; i < T; ++i) {
      const bool blind = band.right == 0 && i < T - S;
      for (int64_t p = 0; p < P; ++p) {
        const bool none = p == 1 || blind;
        CHECK((r.lse.at({p, i}) == -std::numeric_limits<float>::infinity()) == none);
        if (none) {
          for (int64_t c = 0; c < Dv; ++c) CHECK(r.out.at({p, i, c}) == 0.0f);
          for (int64_t c = 0; c < Dh; ++c) CHECK(r.dq.at({p, i, c}) == 0.0f);
        }
      }
    }
    CHECK(allclose(select(r.dk, 0, 1), zeros({S, Dh})));
    CHECK(allclose(select(r.dv, 0, 1), zeros({S, Dv})));
    CHECK(std::isfinite(sum(r.dq).item() + sum(r.dk).item() + sum(r.dv).item()));
  }
}

TEST_CASE("flash attention stays finite and exact for logits near 1e4") {
  const int64_t P = 1, T = 33, S = 70, Dh = 8, Dv = 8;
  Tensor q = randn_({P, T, Dh}, 20) * 100.0f, k = randn_({P, S, Dh}, 21) * 100.0f, v = randn_({P, S, Dv}, 22),
         g = randn_({P, T, Dv}, 23);
  CHECK(amax(abs(matmul(q, transpose(k, 1, 2)))).item() * 0.3f > 5e3f);  // logits of thousands
  Run r = run(false, q, k, v, g, Tensor(), {-1, 0}), want = run(true, q, k, v, g, Tensor(), {-1, 0});
  for (const Tensor& t : {r.out, r.lse, r.dq, r.dk, r.dv}) CHECK(std::isfinite(sum(t).item()));
  check_close(r.out, want.out, 1e-5f, "out");
  check_close(r.lse, want.lse, 1e-5f, "lse");
  // s_ij - lse_i with both near 1e4 is exact only to an ulp of 1e4 (9.8e-4), in
  // the naive twin as here: the probabilities the backward recomputes agree to that.
  check_close(r.dv, want.dv, 2e-3f, "dv");
  check_close(r.dq, want.dq, 2e-3f, "dq");
}

TEST_CASE("flash_attention on tensors: heads as strided views, shapes, empty sizes and bad input") {
  // (B, H, T, Dh) heads split by a transpose, as MultiHeadAttention makes them.
  Tensor x = randn_({2, 9, 12}, 24), y = randn_({2, 7, 12}, 25);
  Tensor q = transpose(view(x, {2, 9, 3, 4}), 1, 2), k = transpose(view(y, {2, 7, 3, 4}), 1, 2);
  Tensor v = randn_({2, 3, 7, 5}, 26), g = randn_({2, 3, 9, 5}, 27);
  Tensor pad = some_padding(2, 7, 28);
  FlashAttentionOptions o{.scale = 0.3f, .right = 0, .key_padding = pad};
  FlashAttentionResult r = flash_attention(q, k, v, o);
  CHECK(r.output.shape() == Shape{2, 3, 9, 5});
  CHECK(r.lse.shape() == Shape{2, 3, 9});
  FlashAttentionGrads d = flash_attention_backward(g, q, k, v, r.output, r.lse, o);
  // The same problems laid out contiguously, each head with its sequence's padding row.
  auto flat = [](const Tensor& t) { return reshape(contiguous(t), {6, t.size(2), t.size(3)}); };
  Tensor pad6 = reshape(contiguous(expand(unsqueeze(pad, 1), {2, 3, 7})), {6, 7});
  Run want = run(true, flat(q), flat(k), flat(v), flat(g), pad6, {-1, 0});
  check_close(flat(r.output), want.out, 1e-5f, "out");
  check_close(reshape(r.lse, {6, 9}), want.lse, 1e-5f, "lse");
  check_close(flat(d.q), want.dq, 1e-5f, "dq");
  check_close(flat(d.k), want.dk, 1e-5f, "dk");
  check_close(flat(d.v), want.dv, 1e-5f, "dv");

  // Empty: no query, no key, no problem.
  FlashAttentionResult no_q = flash_attention(zeros({2, 0, 4}), zeros({2, 3, 4}), zeros({2, 3, 2}));
  CHECK(no_q.output.shape() == Shape{2, 0, 2});
  FlashAttentionGrads no_q_grad = flash_attention_backward(
      zeros({2, 0, 2}), zeros({2, 0, 4}), zeros({2, 3, 4}), zeros({2, 3, 2}), no_q.output, no_q.lse);
  CHECK(allclose(no_q_grad.k, zeros({2, 3, 4})));
  Tensor q3 = randn_({2, 3, 4}, 29);
  FlashAttentionResult no_k = flash_attention(q3, zeros({2, 0, 4}), zeros({2, 0, 2}));
  CHECK(allclose(no_k.output, zeros({2, 3, 2})));
  CHECK(std::isinf(no_k.lse.at({0, 0})));
  FlashAttentionGrads no_k_grad = flash_attention_backward(ones({2, 3, 2}), q3, zeros({2, 0, 4}),
                                                           zeros({2, 0, 2}), no_k.output, no_k.lse);
  CHECK(allclose(no_k_grad.q, zeros({2, 3, 4})));
  CHECK(flash_attention(zeros({0, 3, 4}), zeros({0, 5, 4}), zeros({0, 5, 2})).output.shape() ==
        Shape{0, 3, 2});

  CHECK_THROWS_WITH_AS(flash_attention(q3, zeros({2, 5, 3}), zeros({2, 5, 2})),
                       "flash_attention: q (2, 3, 4), k (2, 5, 3) and v (2, 5, 2) need (..., T, Dh), "
                       "(..., S, Dh) and (..., S, Dv)",
                       Error);
  CHECK_THROWS_WITH_AS(
      flash_attention(q3, zeros({2, 5, 4}), zeros({2, 5, 2}), {.key_padding = zeros({2, 4})}),
      "flash_attention: key_padding must be (2, 5) for q (2, 3, 4) and k (2, 5, 4), got (2, 4)", Error);
}
