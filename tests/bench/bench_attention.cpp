// Attention's two workloads, one thread, held to this machine's FMA peak and
// to libtorch (../shared/bench/compare-libtorch mha gru measures it on the
// very same shapes):
//
//  - MultiHeadAttention forward without gradients: D = 128, 4 heads, batch 32,
//    self-attention at T = 32 (151 MFLOP) and T = 256 (2.15 GFLOP).
//    Targets: >= 50% of the peak at T = 32, >= 70% at T = 256.
//  - One training step of a GRU encoder-decoder with Bahdanau attention (the
//    model of compare-libtorch's gru mode: embed 64, hidden 128, vocab 1000,
//    batch 32, lengths 12, teacher forcing, cross-entropy, Adam). Target: at
//    most a third of libtorch's best time, which this bench cannot run: it
//    prints heed's time for the closing note to set beside libtorch's.
#include <cstdio>

#include "nn/nn.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

void mha_forward(const Peak& peak) {
  constexpr int64_t B = 32, D = 128, H = 4;
  std::printf("\nMultiHeadAttention forward, no grad (D %lld, %lld heads, batch %lld), median of 9\n",
              (long long)D, (long long)H, (long long)B);
  nn::MultiHeadAttention mha({.embed_dim = D, .num_heads = H, .seed = 0});
  Generator gen(1);
  for (int64_t T : {32, 256}) {
    Tensor x = randn({B, T, D}, gen);
    NoGradGuard no_grad;
    Timing t = time_runs([&] { mha.forward(x); }, 9, 2);
    // four (B*T, D)(D, D) projections, then q k^T and weights v per head
    double flop = 4.0 * 2 * B * T * D * D + 2.0 * 2 * B * H * T * T * (D / H);
    double share = flop / t.median / 1e9 / peak.fma_gflops * 100;
    double target = T == 32 ? 50 : 70;
    std::printf(
        "  T = %3lld  %8.3f ms (best %8.3f)  %7.1f MFLOP  %6.1f GFLOP/s  %5.1f%% of peak  %s (target "
        "%.0f%%)\n",
        (long long)T, t.median * 1e3, t.best * 1e3, flop / 1e6, flop / t.median / 1e9, share,
        share >= target ? "PASS" : "MISS", target);
  }
}

// compare-libtorch's GruS2S, layer for layer: separate source and target
// embeddings; the attention reads h_{t-1}; the context joins the next input
// and the output layer: h_t = GRUCell([e_t; c_t], h_{t-1}), logits = out([h_t; c_t]).
// The output layer feeds nothing back into the recurrence, so it runs once on
// all T steps, (B, T, 2 Hid)(2 Hid, V): the same arithmetic as T products of
// (B, 2 Hid)(2 Hid, V), as one large matmul and with one weight gradient
// instead of T to add up.
struct GruBahdanau : nn::Module {
  static constexpr int64_t V = 1000, E = 64, Hid = 128;
  std::shared_ptr<nn::Embedding> src_emb, tgt_emb;
  std::shared_ptr<nn::GRU> enc;
  std::shared_ptr<nn::GRUCell> dec;
  std::shared_ptr<nn::BahdanauAttention> attention;
  std::shared_ptr<nn::Linear> out;

  GruBahdanau() : Module("GruBahdanau") {
    Generator gen(0);
    src_emb = register_module(
        "src_emb",
        std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = E}, gen));
    tgt_emb = register_module(
        "tgt_emb",
        std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = E}, gen));
    enc = register_module(
        "enc", std::make_shared<nn::GRU>(nn::GRUOptions{.input_size = E, .hidden_size = Hid}, gen));
    dec = register_module("dec", std::make_shared<nn::GRUCell>(
                                     nn::GRUCellOptions{.input_size = E + Hid, .hidden_size = Hid}, gen));
    attention = register_module(
        "attention",
        std::make_shared<nn::BahdanauAttention>(
            nn::BahdanauAttentionOptions{.query_size = Hid, .key_size = Hid, .hidden_size = Hid}, gen));
    out = register_module("out", std::make_shared<nn::Linear>(
                                     nn::LinearOptions{.in_features = 2 * Hid, .out_features = V}, gen));
  }

  // source: (B, S), fed: (B, T)  ->  logits (B, T, V)
  Variable forward(const Tensor& source, const Tensor& fed) {
    nn::RNNOutput encoded = enc->forward(src_emb->forward(source));
    nn::BahdanauAttention::Memory memory = attention->remember(encoded.output);
    Variable h = select(encoded.h_n, 0, 0);
    std::vector<Variable> inputs = unbind(tgt_emb->forward(fed), 1), states;
    for (const Variable& e : inputs) {
      Variable context = attention->forward(h, memory).output;
      h = dec->forward(cat({e, context}, 1), h);
      states.push_back(cat({h, context}, 1));  // (B, 2 Hid)
    }
    return out->forward(stack(states, 1));  // (B, T, 2 Hid) -> (B, T, V)
  }
};

void gru_bahdanau_step(const Peak& peak) {
  constexpr int64_t B = 32, S = 12, T = 12, V = GruBahdanau::V;
  GruBahdanau model;
  nn::Adam adam(model.named_parameters(), {.lr = 1e-3});
  nn::CrossEntropyLoss criterion;
  Generator gen(2);
  std::vector<float> ids(B * (S + T + 1));
  for (float& id : ids) id = float(gen.randint(V));
  Tensor source = from_vector(std::vector<float>(ids.begin(), ids.begin() + B * S), {B, S});
  Tensor target = from_vector(std::vector<float>(ids.begin() + B * S, ids.end()), {B, T + 1});
  Tensor fed = narrow(target, 1, 0, T), next = contiguous(narrow(target, 1, 1, T));
  float loss = 0;
  Timing t = time_runs(
      [&] {
        adam.zero_grad();
        Variable l = criterion(reshape(model.forward(source, fed), {B * T, V}), flatten(next));
        l.backward();
        adam.step();
        loss = l.item();
      },
      51, 5);
  // The products' FLOPs, forward (the backward does each twice more): the
  // encoder, W_k k once, then per decoder step W_q h, v . tanh, the context,
  // the GRU cell, and the output layer over all steps.
  constexpr int64_t E = GruBahdanau::E, Hid = GruBahdanau::Hid;
  const double forward = 2.0 * B * S * (E + Hid) * 3 * Hid + 2.0 * B * S * Hid * Hid +
                         T * (2.0 * B * Hid * Hid + 4.0 * B * S * Hid + 2.0 * B * (E + 2 * Hid) * 3 * Hid) +
                         2.0 * B * T * 2 * Hid * V;
  const double flop = 3 * forward;
  std::printf(
      "\nGRU + Bahdanau encoder-decoder training step (embed 64, hidden 128, vocab 1000, batch 32, "
      "lengths 12, Adam), median of 51\n");
  std::printf(
      "  %.2f ms per step (best %.2f)  %.0f MFLOP  %.1f GFLOP/s  %.1f%% of peak; %lld parameters, loss "
      "%.3f\n",
      t.median * 1e3, t.best * 1e3, flop / 1e6, flop / t.median / 1e9,
      flop / t.median / 1e9 / peak.fma_gflops * 100, (long long)model.num_parameters(), loss);
  std::printf(
      "  target: <= 1/3 of libtorch's best, measured beside it by ../shared/bench/compare-libtorch gru\n");
}

}  // namespace

void bench_attention(const Peak& peak) {
  mha_forward(peak);
  gru_bahdanau_step(peak);
}

}  // namespace heed::bench
