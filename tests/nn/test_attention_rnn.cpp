// The attentions of the RNN lessons: Bahdanau's additive score, Luong's
// multiplicative scores and windows, and focus attention's Gaussian windows.
#include <doctest/doctest.h>

#include <cmath>

#include "nn/nn.h"
#include "tests/nn/layer_check.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

namespace {

// The member Variables forward reads (gradcheck_layer points them at its leaves).
std::vector<Variable*> params_of(std::initializer_list<nn::Linear*> layers,
                                 std::vector<Variable*> more = {}) {
  std::vector<Variable*> out;
  for (nn::Linear* l : layers) {
    if (!l) continue;
    out.push_back(&l->weight);
    if (l->bias.defined()) out.push_back(&l->bias);
  }
  out.insert(out.end(), more.begin(), more.end());
  return out;
}
}  // namespace

// ------------------------------------------------------------- Bahdanau
TEST_CASE("Bahdanau attention: weights (B, S) sum to 1 over the unmasked keys, context (B, Dk)") {
  nn::BahdanauAttention attn({.query_size = 6, .key_size = 4, .hidden_size = 5, .seed = 1});
  Variable keys = randn_({2, 7, 4}, 2);
  nn::BahdanauAttention::Memory memory = attn.remember(keys, nn::key_padding_mask({7, 3}, 7));
  CHECK(memory.projected.shape() == Shape{2, 7, 5});
  nn::Attention a = attn.forward(randn_({2, 6}, 3), memory);
  CHECK(a.output.shape() == Shape{2, 4});
  CHECK(a.weights.shape() == Shape{2, 7});
  CHECK(allclose(sum(a.weights.value(), {1}), ones({2}), 1e-6f, 1e-6f));
  for (int64_t j = 3; j < 7; ++j) CHECK(a.weights.value().at({1, j}) == 0.0f);
  CHECK(attn.named_parameters().size() == 4);  // w_q.weight, w_k.weight, w_k.bias, v.weight
}

TEST_CASE("Bahdanau attention with v = 0 gives uniform weights over the unmasked keys") {
  nn::BahdanauAttention attn({.query_size = 3, .key_size = 3, .hidden_size = 4, .seed = 4});
  fill_(attn.v->weight.value(), 0.0f);
  nn::Attention a =
      attn.forward(randn_({2, 3}, 5), attn.remember(randn_({2, 5, 3}, 6), nn::key_padding_mask({5, 2}, 5)));
  CHECK(allclose(a.weights.value(), Tensor{{0.2f, 0.2f, 0.2f, 0.2f, 0.2f}, {0.5f, 0.5f, 0, 0, 0}}, 1e-6f,
                 1e-7f));
}

TEST_CASE("Bahdanau attention passes gradcheck for the query, the keys and every parameter") {
  nn::BahdanauAttention attn({.query_size = 3, .key_size = 2, .hidden_size = 4, .seed = 7});
  Tensor mask = nn::key_padding_mask({4, 2}, 4);
  CHECK(testing::gradcheck_layer(
      params_of({attn.w_q.get(), attn.w_k.get(), attn.v.get()}),
      [&](const Vars& in) { return attn.forward(in[0], attn.remember(in[1], mask)).output; },
      {randn_({2, 3}, 8), randn_({2, 4, 2}, 9)}));
}

// ------------------------------------------------------------- Luong
TEST_CASE("Luong general with W = I equals dot") {
  nn::LuongAttention general({.hidden_size = 4, .score = nn::LuongScore::general, .seed = 10});
  nn::LuongAttention dot({.hidden_size = 4, .score = nn::LuongScore::dot, .seed = 10});
  copy_(general.w_a->weight.value(), Tensor{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}});
  copy_(general.w_c->weight.value(), dot.w_c->weight.value());
  Tensor h = randn_({3, 4}, 11), keys = randn_({3, 6, 4}, 12), mask = nn::key_padding_mask({6, 4, 1}, 6);
  nn::LuongOutput a = general.forward(h, keys, 0, mask), b = dot.forward(h, keys, 0, mask);
  CHECK(allclose(a.weights.value(), b.weights.value(), 1e-6f, 1e-7f));
  CHECK(allclose(a.attentional.value(), b.attentional.value(), 1e-6f, 1e-7f));
  CHECK(a.weights.value().at({2, 0}) == doctest::Approx(1.0f));  // one key: all the weight
}

TEST_CASE("Luong scores and windows pass gradcheck, and h~ = tanh(W_c [c; h]) is (B, Hid)") {
  using S = nn::LuongScore;
  using W = nn::LuongWindow;
  for (auto options :
       {nn::LuongAttentionOptions{.hidden_size = 3, .score = S::dot, .seed = 13},
        nn::LuongAttentionOptions{.hidden_size = 3, .score = S::general, .seed = 14},
        nn::LuongAttentionOptions{.hidden_size = 3, .score = S::concat, .seed = 15},
        nn::LuongAttentionOptions{.hidden_size = 3, .score = S::location, .max_source_length = 6, .seed = 16},
        nn::LuongAttentionOptions{
            .hidden_size = 3, .score = S::general, .window = W::local_m, .half_window = 1, .seed = 17},
        nn::LuongAttentionOptions{
            .hidden_size = 3, .score = S::dot, .window = W::local_p, .half_window = 2, .seed = 18}}) {
    nn::LuongAttention attn(options);
    INFO(attn.describe());
    Tensor mask = nn::key_padding_mask({5, 3}, 5);
    nn::LuongOutput out = attn.forward(randn_({2, 3}, 19), randn_({2, 5, 3}, 20), 2, mask);
    CHECK(out.attentional.shape() == Shape{2, 3});
    CHECK(out.weights.shape() == Shape{2, 5});
    for (int64_t j = 3; j < 5; ++j) CHECK(out.weights.value().at({1, j}) == 0.0f);
    CHECK(testing::gradcheck_layer(
        params_of({attn.w_a.get(), attn.v_a.get(), attn.w_p.get(), attn.v_p.get(), attn.w_c.get()}),
        [&](const Vars& in) { return attn.forward(in[0], in[1], 2, mask).attentional; },
        {randn_({2, 3}, 21), randn_({2, 5, 3}, 22)}));
  }
}

TEST_CASE("Luong local-m attends only inside [t - D, t + D]") {
  nn::LuongAttention attn({.hidden_size = 3,
                           .score = nn::LuongScore::dot,
                           .window = nn::LuongWindow::local_m,
                           .half_window = 1,
                           .seed = 23});
  nn::LuongOutput out = attn.forward(randn_({1, 3}, 24), randn_({1, 8, 3}, 25), 4);
  for (int64_t j = 0; j < 8; ++j) CHECK((out.weights.value().at({0, j}) > 0.0f) == (j >= 3 && j <= 5));
  CHECK(out.position.value().at({0}) == 4.0f);
}

TEST_CASE("the local-p Gaussian factor is 1 at p_t and e^(-1/2) at distance sigma") {
  Variable p = Tensor{3.0f, 1.5f};
  Tensor g = nn::gaussian_window(p, 6, /*sigma=*/1.0f).value();
  CHECK(g.at({0, 3}) == 1.0f);
  CHECK(g.at({0, 4}) == doctest::Approx(std::exp(-0.5f)));
  CHECK(g.at({0, 2}) == doctest::Approx(std::exp(-0.5f)));
  CHECK(g.at({1, 0}) == doctest::Approx(std::exp(-1.125f)));  // 1.5 from a real p_t
  // and in the layer: sigma = D / 2, p_t = S_b sigmoid(...) in [0, S_b], weights = softmax * Gaussian
  nn::LuongAttention attn({.hidden_size = 2,
                           .score = nn::LuongScore::dot,
                           .window = nn::LuongWindow::local_p,
                           .half_window = 4,
                           .seed = 26});
  nn::LuongOutput out =
      attn.forward(randn_({2, 2}, 27), randn_({2, 9, 2}, 28), 0, nn::key_padding_mask({9, 5}, 9));
  for (int64_t b = 0; b < 2; ++b) {
    float pt = out.position.value().at({b});
    CHECK(pt >= 0.0f);
    CHECK(pt <= (b == 0 ? 9.0f : 5.0f));
  }
  CHECK(sum(out.weights.value()).item() < 2.0f);  // the Gaussian takes some weight away
}

// ------------------------------------------------------------- focus
TEST_CASE("focus attention returns weights, mu in [0, S_b - 1] and sigma >= sigma_min per head and query") {
  nn::FocusAttention focus({.embed_dim = 8, .num_heads = 2, .seed = 29});
  nn::FocusAttentionOutput out = focus.forward(randn_({2, 5, 8}, 30), nn::key_padding_mask({5, 3}, 5));
  CHECK(out.output.shape() == Shape{2, 5, 8});
  CHECK(out.weights.shape() == Shape{2, 2, 5, 5});
  CHECK(out.mu.shape() == Shape{2, 2, 5});
  CHECK(amax(out.mu.value()).item() <= 4.0f);
  CHECK(amax(select(out.mu.value(), 0, 1)).item() <= 2.0f);  // sequence 1 has 3 keys
  CHECK(amax(-out.sigma.value()).item() <= -0.5f);
  CHECK(allclose(sum(out.weights.value(), {-1}), ones({2, 2, 5}), 1e-5f, 1e-6f));
}

TEST_CASE("focus attention with sigma -> infinity equals plain multi-head attention") {
  nn::FocusAttention focus({.embed_dim = 8, .num_heads = 2, .seed = 31});
  nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2, .seed = 32});
  for (auto [from, to] : {std::pair{focus.q_proj, mha.q_proj},
                          {focus.k_proj, mha.k_proj},
                          {focus.v_proj, mha.v_proj},
                          {focus.out_proj, mha.out_proj}}) {
    copy_(to->weight.value(), from->weight.value());
    copy_(to->bias.value(), from->bias.value());
  }
  fill_(focus.sigma_weight.value(), 0.0f);
  fill_(focus.sigma_bias.value(), 1e4f);  // sigma ~ 1e4: the penalty (j - mu)^2 / 2e8 vanishes
  Tensor x = randn_({2, 6, 8}, 33), mask = nn::key_padding_mask({6, 4}, 6);
  nn::FocusAttentionOutput a = focus.forward(x, mask);
  nn::Attention b = mha.forward(x, {.key_padding = mask});
  CHECK(allclose(a.weights.value(), b.weights.value(), 1e-5f, 1e-6f));
  CHECK(allclose(a.output.value(), b.output.value(), 1e-5f, 1e-6f));
}

TEST_CASE("focus attention with a small sigma puts its weight at round(mu)") {
  nn::FocusAttention focus({.embed_dim = 4, .num_heads = 1, .sigma_min = 0.05f, .seed = 34});
  fill_(focus.sigma_weight.value(), 0.0f);
  fill_(focus.sigma_bias.value(), -30.0f);  // softplus ~ 0: sigma = sigma_min
  nn::FocusAttentionOutput out = focus.forward(randn_({2, 7, 4}, 35));
  Tensor peaks = argmax(out.weights.value(), -1), centres = out.mu.value();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 7; ++t) {
      INFO("mu ", centres.at({b, 0, t}));
      CHECK(peaks.at({b, 0, t}) == std::round(centres.at({b, 0, t})));
    }
}

TEST_CASE("focus attention passes gradcheck, mu and sigma included") {
  nn::FocusAttention focus({.embed_dim = 4, .num_heads = 2, .seed = 36});
  Tensor mask = nn::key_padding_mask({4, 3}, 4);
  CHECK(testing::gradcheck_layer(
      params_of({focus.q_proj.get(), focus.k_proj.get(), focus.v_proj.get(), focus.out_proj.get()},
                {&focus.mu_weight, &focus.mu_bias, &focus.sigma_weight, &focus.sigma_bias}),
      [&](const Vars& in) {
        nn::FocusAttentionOutput o = focus.forward(in[0], mask);
        return cat({flatten(o.output), flatten(o.mu), flatten(o.sigma)}, 0);
      },
      {randn_({2, 4, 4}, 37)}));
}

TEST_CASE("FocusLSTM returns (logits, attention) for a padded batch") {
  nn::FocusLSTM model(
      {.vocab_size = 10, .hidden_size = 8, .num_layers = 1, .num_heads = 2, .num_classes = 3, .seed = 38});
  Tensor ids = Tensor{{1, 2, 3, 4}, {5, 6, 0, 0}}, mask = Tensor{{0, 0, 0, 0}, {0, 0, 1, 1}};
  auto [logits, attention] = model.forward(ids, mask);
  CHECK(logits.shape() == Shape{2, 3});
  CHECK(attention.weights.shape() == Shape{2, 2, 4, 4});
  for (int64_t j = 2; j < 4; ++j) CHECK(attention.weights.value().at({1, 0, 1, j}) == 0.0f);
  // the padding changes nothing for the real tokens of a sequence
  auto [alone, unused] = model.forward(Tensor{{5, 6}});
  CHECK(allclose(select(logits.value(), 0, 1), select(alone.value(), 0, 0), 1e-5f, 1e-6f));
}

TEST_CASE("FocusLSTM passes gradcheck for every parameter, through the LSTM, the focus and the pooling") {
  nn::FocusLSTM model(
      {.vocab_size = 5, .hidden_size = 4, .num_layers = 1, .num_heads = 2, .num_classes = 2, .seed = 39});
  std::vector<Variable*> params =
      params_of({model.attention->q_proj.get(), model.attention->k_proj.get(), model.attention->v_proj.get(),
                 model.attention->out_proj.get(), model.classifier.get()},
                {&model.attention->mu_weight, &model.attention->mu_bias, &model.attention->sigma_weight,
                 &model.attention->sigma_bias, &model.embedding->weight});
  nn::Recurrent::Weights& w = model.lstm->weights(0, 0);
  for (Variable* p : {&w.weight_ih, &w.weight_hh, &w.bias_ih, &w.bias_hh}) params.push_back(p);
  Tensor ids = Tensor{{1, 2, 3}, {4, 0, 0}}, mask = Tensor{{0, 0, 0}, {0, 1, 1}};
  CHECK(testing::gradcheck_layer(params, [&](const Vars&) { return model.forward(ids, mask).logits; }, {}));
}

TEST_CASE("learned positions pass gradcheck; both absolute encodings add (T, D) rows from an offset") {
  nn::LearnedPositionalEmbedding learned({.embedding_dim = 3, .max_length = 6, .seed = 40});
  CHECK(testing::gradcheck_layer({&learned.weight}, [&](const Vars& in) { return learned.forward(in[0], 2); },
                                 {randn_({2, 3, 3}, 41)}));
  nn::SinusoidalPositionalEncoding sinusoidal({.embedding_dim = 4, .max_length = 8});
  Tensor x = zeros({1, 2, 4});
  CHECK(
      allclose(sinusoidal.forward(x, 3).value(), unsqueeze(narrow(nn::sinusoidal_table(8, 4), 0, 3, 2), 0)));
  CHECK(nn::sinusoidal_table(8, 4).at({1, 0}) == doctest::Approx(std::sin(1.0f)));
  CHECK(nn::sinusoidal_table(8, 4).at({1, 3}) == doctest::Approx(std::cos(0.01f)));
  CHECK(sinusoidal.named_buffers()[0].first == "pe");
  CHECK_THROWS_WITH_AS(sinusoidal.forward(zeros({1, 6, 4}), 3),
                       doctest::Contains("positions 3 .. 8 do not fit its max_length of 8"), Error);
}
