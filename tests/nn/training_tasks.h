// The two end-to-end training tasks, shared by their tests (tests/nn/test_training.cpp,
// which hold them to an accuracy) and by `make bench` (tests/bench/bench_training.cpp,
// which times them): the layers, losses and Adam together learn
//   - the two spirals, a two-layer MLP, to 99% training accuracy;
//   - the reversal of 8 symbols, a GRU encoder-decoder, to 95% held-out token accuracy.
// Every run is seeded and results do not depend on the thread count, so on one
// machine every run gives the same accuracy and step count; another SIMD back
// end rounds differently and may take a few hundred steps more or less, which
// the margins absorb.
#pragma once

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "autograd/ops.h"
#include "nn/activation.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/rnn.h"
#include "nn/sequential.h"

namespace heed::tasks {

// The fraction of rows whose argmax over the last dim equals target.
// logits: (..., C)  target: (...)
inline double accuracy(const Tensor& logits, const Tensor& target) {
  return mean(eq(argmax(logits, -1), target)).item();
}

// ------------------------------------------------------------- two spirals
// Two interleaved spirals of n points each, two turns, radius up to 1:
// point i of spiral k is r (cos a, sin a) with r = (i + 1) / n, a = 4 pi r + k pi.
struct Spirals {
  Tensor points;  // (2n, 2)
  Tensor labels;  // (2n,)
};

inline Spirals two_spirals(int64_t n) {
  std::vector<float> points, labels;
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t i = 0; i < n; ++i) {
      double r = double(i + 1) / double(n), a = 4.0 * std::numbers::pi * r + double(k) * std::numbers::pi;
      points.push_back(float(r * std::cos(a)));
      points.push_back(float(r * std::sin(a)));
      labels.push_back(float(k));
    }
  return {from_vector(points, {2 * n, 2}), from_vector(labels, {2 * n})};
}

// ------------------------------------------------------------- sequence reversal
constexpr int64_t kSymbols = 8;     // data symbols 0..7
constexpr int64_t kBos = kSymbols;  // the decoder's start symbol
constexpr int64_t kVocab = kSymbols + 1;
constexpr int64_t kLength = 8;

// (B, T) random symbols in [0, V) and their reversals.
struct Pairs {
  Tensor source, target;
};

inline Pairs reversed_pairs(int64_t batch, int64_t length, int64_t vocab, Generator& gen) {
  std::vector<float> src(batch * length), tgt(batch * length);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) src[b * length + t] = float(gen.randint(vocab));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t) tgt[b * length + t] = src[b * length + length - 1 - t];
  return {from_vector(src, {batch, length}), from_vector(tgt, {batch, length})};
}

// A GRU encoder reads the sequence into its final state h: (1, B, Hid); a GRU
// decoder starts from h and predicts the reversal one symbol at a time, fed
// the previous symbol (the true one in training, its own guess in decoding).
// No attention: all 8 symbols pass through the one vector h. Both GRUs read
// the one Embedding (symbols 0..7 plus the start symbol).
struct Reverser : nn::Module {
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::GRU> encoder, decoder;
  std::shared_ptr<nn::Linear> out;

  Reverser(int64_t dim, int64_t hidden) : Module("Reverser") {
    Generator gen(21);
    embed = register_module("embed",
                            std::make_shared<nn::Embedding>(
                                nn::EmbeddingOptions{.num_embeddings = kVocab, .embedding_dim = dim}, gen));
    encoder = register_module(
        "encoder", std::make_shared<nn::GRU>(nn::GRUOptions{.input_size = dim, .hidden_size = hidden}, gen));
    decoder = register_module(
        "decoder", std::make_shared<nn::GRU>(nn::GRUOptions{.input_size = dim, .hidden_size = hidden}, gen));
    out =
        register_module("out", std::make_shared<nn::Linear>(
                                   nn::LinearOptions{.in_features = hidden, .out_features = kSymbols}, gen));
  }

  // source, target: (B, T)  ->  logits: (B, T, symbols), teacher forced
  Variable forward(const Tensor& source, const Tensor& target) {
    Variable h = encoder->forward(embed->forward(source)).h_n;
    Tensor bos = full({source.size(0), 1}, float(kBos));
    Tensor fed =
        cat(std::vector<Tensor>{bos, slice(target, 1, 0, kLength - 1)}, 1);  // (B, T): BOS, y0, ..., y6
    return out->forward(decoder->forward(embed->forward(fed), h).output);
  }

  // source: (B, T)  ->  greedy predictions (B, T)
  Tensor decode(const Tensor& source) {
    NoGradGuard no_grad;
    Variable h = encoder->forward(embed->forward(source)).h_n;
    Tensor symbol = full({source.size(0), 1}, float(kBos));
    std::vector<Tensor> predicted;
    for (int64_t t = 0; t < kLength; ++t) {
      nn::RNNOutput step = decoder->forward(embed->forward(symbol), h);
      h = step.h_n;
      symbol = argmax(out->forward(step.output).value(), -1);  // (B, 1)
      predicted.push_back(symbol);
    }
    return cat(predicted, 1);
  }
};

// ------------------------------------------------------------- the two runs
struct SpiralsResult {
  double accuracy = 0;  // on the training points
  int64_t steps = 0;
};

// Full batch Adam until 99% of the 200 points are right (at most 5000 steps).
inline SpiralsResult train_spirals() {
  Spirals data = two_spirals(100);
  Generator gen(1);
  nn::Sequential mlp(
      {std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 2, .out_features = 64}, gen),
       std::make_shared<nn::Tanh>(),
       std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 64, .out_features = 2}, gen)});
  nn::Adam adam(mlp.named_parameters(), {.lr = 1e-2});
  nn::CrossEntropyLoss criterion;
  SpiralsResult result;
  for (; result.steps < 5000; ++result.steps) {  // acc is always the current model's
    adam.zero_grad();
    Variable logits = mlp.forward(data.points);
    result.accuracy = accuracy(logits.value(), data.labels);
    if (result.accuracy >= 0.99) break;
    criterion(logits, data.labels).backward();
    adam.step();
  }
  return result;
}

struct ReversalResult {
  double validation_accuracy = 0, test_accuracy = 0;  // per token, greedy decoding
  int64_t steps = 0;
};

// Stops when the validation set reaches 98% (checked every 100 steps, at most
// 3000), then measures a separate test set; the test set never steers training.
inline ReversalResult train_reversal() {
  Reverser model(/*dim=*/16, /*hidden=*/64);
  nn::Adam adam(model.named_parameters(), {.lr = 1e-2});
  nn::CrossEntropyLoss criterion;
  // 8^8 = 16.7M sequences: the three streams share almost none.
  Generator train_gen(2), validation_gen(3), test_gen(4);
  Pairs validation = reversed_pairs(256, kLength, kSymbols, validation_gen),
        test = reversed_pairs(512, kLength, kSymbols, test_gen);
  ReversalResult result;
  while (result.steps < 3000 && result.validation_accuracy < 0.98) {
    for (int64_t i = 0; i < 100; ++i, ++result.steps) {
      Pairs batch = reversed_pairs(64, kLength, kSymbols, train_gen);
      adam.zero_grad();
      criterion(model.forward(batch.source, batch.target), batch.target).backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      adam.step();
    }
    result.validation_accuracy = mean(eq(model.decode(validation.source), validation.target)).item();
  }
  result.test_accuracy = mean(eq(model.decode(test.source), test.target)).item();
  return result;
}

}  // namespace heed::tasks
