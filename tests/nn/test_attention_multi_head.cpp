// MultiHeadAttention: heads that really are separate attentions, a cache that
// really decodes like the full pass, and positions that really break symmetry.
#include <doctest/doctest.h>

#include "nn/attention/multi_head.h"
#include "tensor/threads.h"
#include "tests/nn/layer_check.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

namespace {

// Rows [from, from + n) of x: (B, T, D) along the last dim.
Variable cols(const Variable& x, int64_t from, int64_t n) { return narrow(x, -1, from, n); }

// (B, T, D) with the rows of each sequence reordered by perm.
Tensor permuted(const Tensor& x, const std::vector<int64_t>& perm) {
  std::vector<float> ids(perm.begin(), perm.end());
  return index_select(x, 1, from_vector(ids, {int64_t(perm.size())}));
}

}  // namespace

TEST_CASE("multi-head attention gives (B, T, D) and per-head weights (B, H, T, S) whose rows sum to 1") {
  nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2, .seed = 1});
  Tensor x = randn_({3, 5, 8}, 2), memory = randn_({3, 7, 8}, 3);
  nn::Attention self = mha.forward(x);
  CHECK(self.output.shape() == Shape{3, 5, 8});
  CHECK(self.weights.shape() == Shape{3, 2, 5, 5});
  nn::Attention cross = mha.forward(x, memory, memory, {.key_padding = nn::key_padding_mask({7, 4, 0}, 7)});
  CHECK(cross.weights.shape() == Shape{3, 2, 5, 7});
  Tensor rows = sum(cross.weights.value(), {-1});
  CHECK(allclose(select(rows, 0, 0), ones({2, 5}), 1e-6f, 1e-6f));
  CHECK(allclose(select(rows, 0, 2), zeros({2, 5})));  // sequence 2 has no keys at all: zeros, not NaN
  for (int64_t j = 4; j < 7; ++j) CHECK(cross.weights.value().at({1, 1, 3, j}) == 0.0f);
  CHECK(mha.named_parameters().size() == 8);
  CHECK(mha.named_parameters()[0].first == "q_proj.weight");
  CHECK(mha.named_parameters()[7].first == "out_proj.bias");
}

TEST_CASE("multi-head attention equals H separate single-head attentions followed by the output projection") {
  const int64_t D = 12, H = 3, Dh = D / H;
  nn::MultiHeadAttention mha({.embed_dim = D, .num_heads = H, .seed = 4});
  Tensor x = randn_({2, 4, D}, 5), m = randn_({2, 6, D}, 6);
  Tensor mask = unsqueeze(nn::key_padding_mask({6, 3}, 6), 1);  // (2, 1, 6) for one head's (B, T, S)
  nn::Attention got = mha.forward(x, m, m, {.key_padding = nn::key_padding_mask({6, 3}, 6)});
  std::vector<Variable> heads;
  Variable q = mha.q_proj->forward(x), k = mha.k_proj->forward(m), v = mha.v_proj->forward(m);
  for (int64_t h = 0; h < H; ++h) {
    nn::Attention one =
        nn::scaled_dot_product_attention(cols(q, h * Dh, Dh), cols(k, h * Dh, Dh), cols(v, h * Dh, Dh), mask);
    heads.push_back(one.output);
    CHECK(allclose(one.weights.value(), select(got.weights.value(), 1, h), 1e-6f, 1e-6f));
  }
  Variable expected = mha.out_proj->forward(cat(heads, -1));
  CHECK(allclose(got.output.value(), expected.value(), 1e-5f, 1e-6f));
}

TEST_CASE(
    "multi-head attention passes gradcheck for its inputs and every parameter, masked and with positions") {
  for (auto options :
       {nn::MultiHeadAttentionOptions{.embed_dim = 4, .num_heads = 2, .seed = 7},
        nn::MultiHeadAttentionOptions{.embed_dim = 4, .num_heads = 2, .rotary = true, .seed = 8},
        nn::MultiHeadAttentionOptions{.embed_dim = 4, .num_heads = 1, .relative_positions = 1, .seed = 9}}) {
    nn::MultiHeadAttention mha(options);
    std::vector<Variable*> params;
    for (auto* l : {mha.q_proj.get(), mha.k_proj.get(), mha.v_proj.get(), mha.out_proj.get()}) {
      params.push_back(&l->weight);
      params.push_back(&l->bias);
    }
    if (mha.relative) {
      params.push_back(&mha.relative->keys);
      params.push_back(&mha.relative->values);
    }
    INFO(mha.describe());
    CHECK(testing::gradcheck_layer(
        params,
        [&](const Vars& in) {
          return mha
              .forward(in[0], in[1], in[1], {.key_padding = Tensor{{0, 0, 1}, {0, 0, 0}}, .causal = true})
              .output;
        },
        {randn_({2, 3, 4}, 10), randn_({2, 3, 4}, 11)}));
  }
}

TEST_CASE("the key/value cache: decoding one token at a time equals the full causal pass") {
  for (auto options :
       {nn::MultiHeadAttentionOptions{.embed_dim = 16, .num_heads = 4, .seed = 12},
        nn::MultiHeadAttentionOptions{.embed_dim = 16, .num_heads = 4, .rotary = true, .seed = 13},
        nn::MultiHeadAttentionOptions{
            .embed_dim = 16, .num_heads = 2, .relative_positions = 2, .seed = 14}}) {
    nn::MultiHeadAttention mha(options);
    INFO(mha.describe());
    Tensor x = randn_({2, 7, 16}, 15);
    NoGradGuard no_grad;
    Tensor full = mha.forward(x, {.causal = true}).output.value();
    nn::KVCache cache;
    for (int64_t t = 0; t < 7; ++t) {
      Tensor step = mha.forward(narrow(x, 1, t, 1), {.causal = true}, &cache).output.value();
      CHECK(cache.length() == t + 1);
      CHECK(allclose(step, narrow(full, 1, t, 1), 1e-6f, 1e-6f));
    }
  }
}

TEST_CASE(
    "without positions self-attention is permutation-equivariant; rotary and relative positions break it") {
  const std::vector<int64_t> perm{3, 0, 4, 1, 2};
  Tensor x = randn_({2, 5, 8}, 16);
  for (auto options :
       {nn::MultiHeadAttentionOptions{.embed_dim = 8, .num_heads = 2, .seed = 17},
        nn::MultiHeadAttentionOptions{.embed_dim = 8, .num_heads = 2, .rotary = true, .seed = 17},
        nn::MultiHeadAttentionOptions{.embed_dim = 8, .num_heads = 2, .relative_positions = 2, .seed = 17}}) {
    nn::MultiHeadAttention mha(options);
    Tensor out_of_permuted = mha.forward(permuted(x, perm)).output.value();
    Tensor permuted_out = permuted(mha.forward(x).output.value(), perm);
    bool equivariant = allclose(out_of_permuted, permuted_out, 1e-5f, 1e-6f);
    INFO(mha.describe());
    CHECK(equivariant == (!options.rotary && !options.relative_positions));
  }
}

TEST_CASE("absolute positions (sinusoidal and learned) added to the input break permutation equivariance") {
  const std::vector<int64_t> perm{1, 0, 2, 3};
  Tensor x = randn_({1, 4, 8}, 18);
  nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2, .seed = 19});
  nn::SinusoidalPositionalEncoding sinusoidal({.embedding_dim = 8, .max_length = 16});
  nn::LearnedPositionalEmbedding learned({.embedding_dim = 8, .max_length = 16, .seed = 20});
  for (nn::UnaryModule* positions : std::initializer_list<nn::UnaryModule*>{&sinusoidal, &learned}) {
    Tensor a = mha.forward(positions->forward(permuted(x, perm))).output.value();
    Tensor b = permuted(mha.forward(positions->forward(x)).output.value(), perm);
    CHECK_FALSE(allclose(a, b, 1e-4f, 1e-5f));
  }
}

TEST_CASE(
    "relative positions with k = 0 equal attention with one shared vector added to every key and value") {
  nn::MultiHeadAttention mha({.embed_dim = 6, .num_heads = 2, .relative_positions = 0, .seed = 21});
  Tensor x = randn_({2, 4, 6}, 22);
  Tensor got = mha.forward(x).output.value();
  NoGradGuard no_grad;
  Variable ak = mha.relative->keys,
           av = mha.relative->values;  // (1, Dh): the one vector for keys, for values
  Variable q = heed::detail::split_heads(mha.q_proj->forward(x), 2);
  Variable k = heed::detail::split_heads(mha.k_proj->forward(x), 2) + ak;
  Variable v = heed::detail::split_heads(mha.v_proj->forward(x), 2) + av;
  Variable out =
      mha.out_proj->forward(heed::detail::merge_heads(nn::scaled_dot_product_attention(q, k, v).output));
  CHECK(allclose(got, out.value(), 1e-5f, 1e-6f));
}

TEST_CASE("PyTorch's packed in_proj_weight loads into q_proj, k_proj and v_proj by rows") {
  nn::MultiHeadAttention mha({.embed_dim = 4, .num_heads = 2, .seed = 23});
  Tensor w = arange(48) * 0.01f, b = arange(12) * 0.1f;
  mha.load_packed_in_proj(reshape(w, {12, 4}), b);
  CHECK(allclose(mha.k_proj->weight.value(), reshape(narrow(w, 0, 16, 16), {4, 4})));
  CHECK(allclose(mha.v_proj->bias.value(), narrow(b, 0, 8, 4)));
  CHECK_THROWS_WITH_AS(mha.load_packed_in_proj(zeros({4, 4}), b),
                       doctest::Contains("in_proj_weight must be (12, 4), got (4, 4)"), Error);
}

TEST_CASE("multi-head attention names what it cannot use") {
  CHECK_THROWS_WITH_AS(nn::MultiHeadAttention({.embed_dim = 6, .num_heads = 4}),
                       "MultiHeadAttention: embed_dim 6 must split into num_heads 4 equal heads (embed_dim % "
                       "num_heads == 0)",
                       Error);
  nn::MultiHeadAttention mha({.embed_dim = 4, .num_heads = 2, .seed = 24});
  CHECK_THROWS_WITH_AS(mha.forward(Variable(zeros({2, 3, 5}))),
                       doctest::Contains("expected query (B, T, 4), got (2, 3, 5)"), Error);
  CHECK_THROWS_WITH_AS(mha.forward(Variable(zeros({2, 3, 4})), {.key_padding = zeros({2, 4})}),
                       doctest::Contains("key_padding mask must be (B, S) = (2, 3), got (2, 4)"), Error);
}

// Without a graph, self-attention projects q, k and v as one product (k and v
// in cross-attention); each element is the same dot product, so the results
// are those of the recorded forward, which projects them one by one.
TEST_CASE("multi-head attention without gradients equals its recorded forward, self and cross") {
  nn::MultiHeadAttention mha({.embed_dim = 12, .num_heads = 3, .seed = 8});
  Tensor x = randn_({2, 5, 12}, 9), memory = randn_({2, 7, 12}, 10);
  const nn::Attention self = mha.forward(x), cross = mha.forward(x, memory, memory);
  REQUIRE(self.output.requires_grad());
  NoGradGuard no_grad;
  const Variable xv(x), mv(memory);
  const nn::Attention self_ng = mha.forward(xv), cross_ng = mha.forward(xv, mv, mv);
  CHECK(self_ng.output.value().to_vector() == self.output.value().to_vector());
  CHECK(self_ng.weights.value().to_vector() == self.weights.value().to_vector());
  CHECK(cross_ng.output.value().to_vector() == cross.output.value().to_vector());
  CHECK(cross_ng.weights.value().to_vector() == cross.weights.value().to_vector());
}

// On one thread, inference over sequences whose projections outgrow ~1 MiB
// runs them a few at a time (here (T + 2S) D = 98K floats a sequence: chunks of
// 2, 2 and 1), each chunk writing its slice of the output and the weights.
TEST_CASE("multi-head attention without gradients, in chunks of sequences, equals its recorded forward") {
  nn::MultiHeadAttention mha({.embed_dim = 256, .num_heads = 4, .seed = 11});
  Tensor x = randn_({5, 128, 256}, 12), memory = randn_({5, 96, 256}, 13), values = randn_({5, 96, 256}, 14);
  const nn::AttentionMasks masks{.key_padding = nn::key_padding_mask({128, 100, 3, 128, 64}, 128),
                                 .causal = true};
  const nn::AttentionMasks cross_masks{.key_padding = nn::key_padding_mask({96, 1, 50, 0, 96}, 96)};
  const nn::Attention self = mha.forward(x, masks), cross = mha.forward(x, memory, memory, cross_masks),
                      apart = mha.forward(x, memory, values);
  const int threads = num_threads();
  set_num_threads(1);
  NoGradGuard no_grad;
  const Variable xv(x), mv(memory), vv(values);
  const nn::Attention self_ng = mha.forward(xv, masks), cross_ng = mha.forward(xv, mv, mv, cross_masks),
                      apart_ng = mha.forward(xv, mv, vv);
  set_num_threads(threads);
  for (auto [got, want] : {std::pair{self_ng, self}, {cross_ng, cross}, {apart_ng, apart}}) {
    CHECK(got.output.value().to_vector() == want.output.value().to_vector());
    CHECK(got.weights.value().to_vector() == want.weights.value().to_vector());
  }
}
