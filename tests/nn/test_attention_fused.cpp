// fused_attention (nn/attention/fused.h): gradcheck, the same numbers as
// scaled_dot_product_attention with the equivalent mask (forward and every
// gradient), memory that never holds a (T, S) tensor, and MultiHeadAttention
// with .fused = true equal to it without; with dropout, the same against plain
// attention whose weights meet the same mask, built explicitly.
#include <doctest/doctest.h>

#include <string>

#include "autograd/gradcheck.h"
#include "nn/attention/fused.h"
#include "nn/attention/multi_head.h"
#include "nn/attention/sparse.h"
#include "tensor/random.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

namespace {

// The fused options as one mask for scaled_dot_product_attention: (B, 1, T, S).
Tensor as_mask(const nn::FusedAttentionOptions& o, int64_t B, int64_t T, int64_t S) {
  // A negative bound is none: S reaches past every key.
  const int64_t left = o.window_left < 0 ? S : o.window_left, right = o.window_right < 0 ? S : o.window_right;
  Tensor m = unsqueeze(nn::band_mask(T, left, o.causal ? 0 : right, S), 0);
  m = expand(unsqueeze(m, 0), {B, 1, T, S});
  if (o.key_padding.defined()) m = add(m, view(o.key_padding, {B, 1, 1, S}));
  return contiguous(m);
}

Tensor lengths_padding(const std::vector<int64_t>& lengths, int64_t S) {
  return nn::key_padding_mask(lengths, S);
}

// The fused output and the plain one agree within 1e-5, and so do the
// gradients of q, k and v after backward through sum(out * r).
void check_same(const Variable& fused, const Variable& plain, const Tensor& r, const Vars& fused_in,
                const Vars& plain_in) {
  CHECK(allclose(fused.value(), plain.value(), 1e-5f, 1e-5f));
  sum(fused * r).backward();
  sum(plain * r).backward();
  for (size_t i = 0; i < fused_in.size(); ++i)
    CHECK(allclose(fused_in[i].grad(), plain_in[i].grad(), 1e-5f, 1e-5f));
}

}  // namespace

TEST_CASE("fused_attention passes gradcheck, causal or not, with padding and a band") {
  const int64_t B = 2, H = 2, T = 5, S = 7;
  Tensor pad = lengths_padding({7, 4}, S);
  for (const nn::FusedAttentionOptions& o :
       {nn::FusedAttentionOptions{}, nn::FusedAttentionOptions{.causal = true},
        nn::FusedAttentionOptions{.key_padding = pad},
        nn::FusedAttentionOptions{.causal = true, .key_padding = pad, .block_q = 2, .block_k = 3},
        nn::FusedAttentionOptions{.window_left = 2, .window_right = 1, .block_q = 2, .block_k = 2}}) {
    INFO("causal ", o.causal, " window ", o.window_left, " ", o.window_right, " padded ",
         o.key_padding.defined());
    CHECK(gradcheck([&](const Vars& in) { return nn::fused_attention(in[0], in[1], in[2], o); },
                    {randn_({B, H, T, 4}, 1), randn_({B, H, S, 4}, 2), randn_({B, H, S, 3}, 3)}));
  }
  // Plain (B, T, Dh) problems too.
  CHECK(gradcheck(
      [&](const Vars& in) {
        return nn::fused_attention(in[0], in[1], in[2], {.causal = true, .key_padding = pad});
      },
      {randn_({B, T, 3}, 4), randn_({B, S, 3}, 5), randn_({B, S, 2}, 6)}));
}

TEST_CASE("fused_attention equals scaled_dot_product_attention within 1e-5, forward and gradients") {
  for (int64_t T : {1, 3, 17, 65, 129})
    for (int64_t extra : {0, 4}) {  // S = T, and S > T as when decoding with a cache
      const int64_t B = 2, H = 2, S = T + extra, Dh = 8, Dv = 6;
      Tensor pad = lengths_padding({S, std::max<int64_t>(1, S - 3)}, S);
      for (const nn::FusedAttentionOptions& o :
           {nn::FusedAttentionOptions{}, nn::FusedAttentionOptions{.causal = true, .key_padding = pad},
            nn::FusedAttentionOptions{.causal = true, .window_left = 5},
            nn::FusedAttentionOptions{.window_left = 3, .window_right = 3, .key_padding = pad}}) {
        INFO("T ", T, " S ", S, " causal ", o.causal, " window ", o.window_left, " ", o.window_right);
        Variable q(randn_({B, H, T, Dh}, 7), true), k(randn_({B, H, S, Dh}, 8), true),
            v(randn_({B, H, S, Dv}, 9), true);
        Variable q2(q.value(), true), k2(k.value(), true), v2(v.value(), true);
        Tensor r = randn_({B, H, T, Dv}, 10);
        Variable fused = nn::fused_attention(q, k, v, o);
        Variable plain = nn::scaled_dot_product_attention(q2, k2, v2, as_mask(o, B, T, S)).output;
        check_same(fused, plain, r, {q, k, v}, {q2, k2, v2});
      }
    }
}

TEST_CASE("fused_attention: keys outside the band get exactly zero gradient, fully padded rows zero") {
  const int64_t T = 20, S = 20;
  Variable q(randn_({1, T, 4}, 11), true), k(randn_({1, S, 4}, 12), true), v(randn_({1, S, 4}, 13), true);
  // Query 19 with a window of 3 to the left, causal, sees keys 16 .. 19 only.
  Variable out = nn::fused_attention(q, k, v, {.causal = true, .window_left = 3, .block_q = 4, .block_k = 4});
  sum(narrow(out, 1, T - 1, 1)).backward();
  for (int64_t j = 0; j < S; ++j)
    for (int64_t c = 0; c < 4; ++c) {
      CHECK((k.grad().at({0, j, c}) == 0.0f) == (j < 16));
      CHECK((v.grad().at({0, j, c}) == 0.0f) == (j < 16));
    }
  // A sequence whose keys are all padding: output 0, gradient 0.
  Variable q2(randn_({2, 3, 4}, 14), true), k2(randn_({2, 5, 4}, 15), true), v2(randn_({2, 5, 4}, 16), true);
  Variable o2 = nn::fused_attention(q2, k2, v2, {.key_padding = lengths_padding({5, 0}, 5)});
  CHECK(allclose(select(o2.value(), 0, 1), zeros({3, 4})));
  sum(o2).backward();
  CHECK(allclose(select(q2.grad(), 0, 1), zeros({3, 4})));
  CHECK(allclose(select(k2.grad(), 0, 1), zeros({5, 4})));
}

TEST_CASE("fused_attention's forward and backward never hold a (T, S) tensor") {
  const int64_t T = 512, Dh = 16;
  Variable q(randn_({1, 1, T, Dh}, 17), true), k(randn_({1, 1, T, Dh}, 18), true),
      v(randn_({1, 1, T, Dh}, 19), true);
  const int64_t before = detail::live_storage_bytes();
  detail::reset_peak_storage_bytes();
  {
    Variable out = nn::fused_attention(q, k, v, {.causal = true});
    sum(out).backward();
  }
  const int64_t peak = detail::peak_storage_bytes() - before;
  // q, k, v, their gradients, out, lse and a few (T, Dh) temporaries; the weights alone would be 1 MiB.
  CHECK(peak > 0);
  CHECK(peak < T * T * int64_t(sizeof(float)) / 4);
}

TEST_CASE("MultiHeadAttention with .fused equals it without, and says what it cannot take") {
  const int64_t B = 2, T = 9, D = 8;
  nn::MultiHeadAttention plain({.embed_dim = D, .num_heads = 2, .rotary = true, .seed = 20});
  nn::MultiHeadAttention fused({.embed_dim = D, .num_heads = 2, .rotary = true, .seed = 20, .fused = true});
  Tensor x = randn_({B, T, D}, 21), r = randn_({B, T, D}, 22);
  const nn::AttentionMasks masks{.key_padding = lengths_padding({9, 6}, T), .causal = true};
  nn::Attention a = plain.forward(x, masks), b = fused.forward(x, masks);
  CHECK(!b.weights.defined());
  CHECK(allclose(a.output.value(), b.output.value(), 1e-5f, 1e-5f));
  sum(a.output * r).backward();
  sum(b.output * r).backward();
  auto pa = plain.named_parameters(), pb = fused.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    CHECK(allclose(pa[i].second.grad(), pb[i].second.grad(), 1e-5f, 1e-5f));
  }

  // Decoding with a cache, one token at a time, equals the full causal pass.
  {
    NoGradGuard no_grad;
    nn::KVCache cache;
    Tensor full = fused.forward(x, {.causal = true}).output.value();
    for (int64_t t = 0; t < T; ++t) {
      Tensor step = fused.forward(narrow(x, 1, t, 1), {.causal = true}, &cache).output.value();
      CHECK(allclose(step, narrow(full, 1, t, 1), 1e-5f, 1e-5f));
    }
  }

  CHECK(fused.describe() ==
        "MultiHeadAttention(embed_dim=8, num_heads=2, dropout=0, bias=true, rotary=true, fused=true)");
  CHECK_THROWS_WITH_AS(fused.forward(x, {.attn = nn::causal_mask(T)}),
                       "MultiHeadAttention(embed_dim=8, num_heads=2, dropout=0, bias=true, rotary=true, "
                       "fused=true): fused attention takes key_padding and causal masks, not an attn mask of "
                       "shape (9, 9)",
                       Error);
  CHECK_THROWS_WITH_AS(nn::MultiHeadAttention({.embed_dim = D, .relative_positions = 2, .fused = true}),
                       "MultiHeadAttention: fused attention never makes the weights that relative_positions "
                       "act on; set fused = false to use them",
                       Error);
}

// ------------------------------------------------------------- dropout

namespace {
// The dropout mask of (B, H, T, S) weights as the fused op defines it, built
// element by element: [dropout_uniform(seed, ((b H + h) T + i) S + j) >= p] / (1 - p).
Tensor explicit_mask(const Shape& shape, float p, uint64_t seed) {
  Tensor m = empty(shape);
  for (int64_t n = 0; n < m.numel(); ++n)
    m.data()[n] = dropout_uniform(seed, uint64_t(n)) >= p ? 1.0f / (1.0f - p) : 0.0f;
  return m;
}
}  // namespace

TEST_CASE("fused_attention with dropout passes gradcheck (the mask fixed by its seed)") {
  const int64_t B = 2, H = 2, T = 5, S = 7;
  Tensor pad = lengths_padding({7, 4}, S);
  for (const nn::FusedAttentionOptions& o :
       {nn::FusedAttentionOptions{.dropout = 0.3f, .seed = 11},
        nn::FusedAttentionOptions{
            .causal = true, .key_padding = pad, .block_q = 2, .block_k = 3, .dropout = 0.5f, .seed = 12}}) {
    INFO("causal ", o.causal, " p ", o.dropout);
    CHECK(gradcheck([&](const Vars& in) { return nn::fused_attention(in[0], in[1], in[2], o); },
                    {randn_({B, H, T, 4}, 1), randn_({B, H, S, 4}, 2), randn_({B, H, S, 3}, 3)}));
  }
}

TEST_CASE(
    "fused_attention with dropout equals softmax attention times the same mask built explicitly (1e-5)") {
  for (int64_t T : {1, 3, 17, 65})
    for (int64_t extra : {0, 4}) {
      const int64_t B = 2, H = 3, S = T + extra, Dh = 8, Dv = 6;
      const float p = 0.2f;
      const uint64_t seed = 0xfeedbeef12345ull + uint64_t(T);
      Tensor pad = lengths_padding({S, std::max<int64_t>(1, S - 3)}, S);
      for (const nn::FusedAttentionOptions& o :
           {nn::FusedAttentionOptions{.dropout = p, .seed = seed}, nn::FusedAttentionOptions{.causal = true,
                                                                   .key_padding = pad,
                                                                   .block_q = 16,
                                                                   .block_k = 8,
                                                                   .dropout = p,
                                                                   .seed = seed}}) {
        INFO("T ", T, " S ", S, " causal ", o.causal);
        Variable q(randn_({B, H, T, Dh}, 7), true), k(randn_({B, H, S, Dh}, 8), true),
            v(randn_({B, H, S, Dv}, 9), true);
        Variable q2(q.value(), true), k2(k.value(), true), v2(v.value(), true);
        Tensor r = randn_({B, H, T, Dv}, 10);
        Variable fused = nn::fused_attention(q, k, v, o);
        // softmax(q kᵀ / sqrt(Dh), masked) * M, then times v
        Variable weights = nn::scaled_dot_product_attention(q2, k2, v2, as_mask(o, B, T, S)).weights;
        Variable plain = matmul(weights * Variable(explicit_mask({B, H, T, S}, p, seed)), v2);
        check_same(fused, plain, r, {q, k, v}, {q2, k2, v2});
      }
    }
}

TEST_CASE("fused_attention: dropout 0 is no dropout bit for bit, dropout 1 gives zeros and zero gradient") {
  Variable q(randn_({2, 2, 9, 4}, 11), true), k(randn_({2, 2, 9, 4}, 12), true),
      v(randn_({2, 2, 9, 4}, 13), true);
  CHECK(nn::fused_attention(q, k, v, {.causal = true}).value().to_vector() ==
        nn::fused_attention(q, k, v, {.causal = true, .dropout = 0.0f, .seed = 5}).value().to_vector());
  Variable all = nn::fused_attention(q, k, v, {.causal = true, .dropout = 1.0f, .seed = 5});
  CHECK(allclose(all.value(), zeros({2, 2, 9, 4}), 0.0f, 0.0f));
  sum(all).backward();
  for (const Variable* x : {&q, &k, &v}) CHECK(allclose(x->grad(), zeros({2, 2, 9, 4}), 0.0f, 0.0f));
}

TEST_CASE("MultiHeadAttention .fused with dropout: in training the plain path's mask, in eval none") {
  const int64_t B = 2, T = 9, D = 8;
  nn::MultiHeadAttention plain({.embed_dim = D, .num_heads = 2, .dropout = 0.3f, .seed = 30});
  nn::MultiHeadAttention fused({.embed_dim = D, .num_heads = 2, .dropout = 0.3f, .seed = 30, .fused = true});
  Tensor x = randn_({B, T, D}, 31), r = randn_({B, T, D}, 32);
  const nn::AttentionMasks masks{.key_padding = lengths_padding({9, 6}, T), .causal = true};
  // Two training passes: each draws a fresh seed from the layer's attention-dropout generator.
  for (int pass = 0; pass < 2; ++pass) {
    INFO("pass ", pass);
    plain.zero_grad(), fused.zero_grad();
    nn::Attention a = plain.forward(x, masks), b = fused.forward(x, masks);
    CHECK(allclose(a.output.value(), b.output.value(), 1e-5f, 1e-5f));
    sum(a.output * r).backward();
    sum(b.output * r).backward();
    auto pa = plain.named_parameters(), pb = fused.named_parameters();
    for (size_t i = 0; i < pa.size(); ++i) {
      INFO(pa[i].first);
      CHECK(allclose(pa[i].second.grad(), pb[i].second.grad(), 1e-5f, 1e-5f));
    }
  }
  // Dropout is on: a layer without it gives other numbers.
  nn::MultiHeadAttention undropped({.embed_dim = D, .num_heads = 2, .seed = 30, .fused = true});
  CHECK(!allclose(undropped.forward(x, masks).output.value(), fused.forward(x, masks).output.value(), 1e-3f,
                  1e-3f));
  // Eval: no dropout, and the same as without it.
  fused.eval(), undropped.eval();
  CHECK(allclose(fused.forward(x, masks).output.value(), undropped.forward(x, masks).output.value(), 1e-6f,
                 1e-6f));
}
