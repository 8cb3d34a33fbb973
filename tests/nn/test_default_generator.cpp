// The default generator (tensor/random.h): what a layer given neither a .seed
// nor a Generator& draws its seed from, as PyTorch's layers draw from
// torch.default_generator, reset by heed::manual_seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "autograd/ops.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/rnn.h"

using namespace heed;

TEST_CASE("two layers built alike without a seed start with different weights") {
  nn::Linear query({.in_features = 8, .out_features = 8}), key({.in_features = 8, .out_features = 8});
  CHECK_FALSE(equal(query.weight.value(), key.weight.value()));
  CHECK_FALSE(equal(query.bias.value(), key.bias.value()));

  nn::Embedding a({.num_embeddings = 5, .embedding_dim = 4}), b({.num_embeddings = 5, .embedding_dim = 4});
  CHECK_FALSE(equal(a.weight.value(), b.weight.value()));
  nn::GRU encoder({.input_size = 3, .hidden_size = 4}), decoder({.input_size = 3, .hidden_size = 4});
  CHECK_FALSE(equal(encoder.weights(0, 0).weight_ih.value(), decoder.weights(0, 0).weight_ih.value()));

  nn::Dropout first({.p = 0.5f}), second({.p = 0.5f});
  Tensor x = ones({8, 8});
  CHECK_FALSE(equal(first.forward(x).value(), second.forward(x).value()));
}

TEST_CASE("manual_seed(n) makes the same program build the same weights and masks") {
  struct Built {
    Tensor fc1, fc2, embedding, lstm, mask;
  };
  auto program = [] {
    nn::Linear fc1({.in_features = 4, .out_features = 3}), fc2({.in_features = 3, .out_features = 2});
    nn::Embedding emb({.num_embeddings = 6, .embedding_dim = 2});
    nn::LSTM lstm({.input_size = 2, .hidden_size = 3});
    nn::Dropout drop({.p = 0.5f});
    return Built{fc1.weight.value(), fc2.weight.value(), emb.weight.value(),
                 lstm.weights(0, 0).weight_hh.value(), drop.forward(ones({4, 4})).value()};
  };
  manual_seed(7);
  Built once = program();
  manual_seed(7);
  Built twice = program();
  CHECK(equal(once.fc1, twice.fc1));
  CHECK(equal(once.fc2, twice.fc2));
  CHECK(equal(once.embedding, twice.embedding));
  CHECK(equal(once.lstm, twice.lstm));
  CHECK(equal(once.mask, twice.mask));

  manual_seed(8);
  CHECK_FALSE(equal(program().fc1, once.fc1));
}

TEST_CASE(".seed = 0 gives the weights of a Generator(0), as before the default generator") {
  Generator gen(0);
  Tensor weight = nn::init::linear_uniform({3, 4}, 4, gen), bias = nn::init::linear_uniform({3}, 4, gen);
  nn::Linear fc({.in_features = 4, .out_features = 3, .seed = 0});
  CHECK(equal(fc.weight.value(), weight));
  CHECK(equal(fc.bias.value(), bias));

  Generator for_layer(0);
  nn::Linear from_generator({.in_features = 4, .out_features = 3}, for_layer);
  CHECK(equal(fc.weight.value(), from_generator.weight.value()));

  Generator emb_gen(0);
  nn::Embedding emb({.num_embeddings = 5, .embedding_dim = 2, .seed = 0});
  CHECK(equal(emb.weight.value(), randn({5, 2}, emb_gen)));

  Generator rnn_gen(0);
  nn::GRU seeded({.input_size = 3, .hidden_size = 2, .seed = 0}),
      given({.input_size = 3, .hidden_size = 2}, rnn_gen);
  for (int i = 0; i < 4; ++i) CHECK(equal(seeded.parameters()[i].value(), given.parameters()[i].value()));

  // Dropout seeds its mask stream with the seed itself.
  nn::Dropout drop({.p = 0.5f, .seed = 0});
  Generator mask_gen(0);
  CHECK(equal(drop.forward(ones({4, 4})).value(), dropout(ones({4, 4}), 0.5f, true, mask_gen).value()));
}

TEST_CASE("a layer given a seed or a Generator& leaves the default generator where it was") {
  manual_seed(3);
  nn::Linear expected({.in_features = 4, .out_features = 4});

  manual_seed(3);
  Generator gen(1);
  nn::Linear from_gen({.in_features = 4, .out_features = 4}, gen);
  nn::Linear seeded({.in_features = 4, .out_features = 4, .seed = 5});
  nn::Dropout drop({.p = 0.1f}, gen);
  nn::Linear next({.in_features = 4, .out_features = 4});
  CHECK(equal(next.weight.value(), expected.weight.value()));
}

TEST_CASE("layers built on several threads at once all get different seeds") {
  manual_seed(11);
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::vector<uint64_t>> seeds(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&seeds, t] {
      for (int i = 0; i < kEach; ++i) seeds[t].push_back(seed_from_default_generator());
    });
  for (std::thread& t : threads) t.join();

  // Together they are exactly the stream one thread would have drawn.
  manual_seed(11);
  std::vector<uint64_t> all, serial;
  for (const auto& s : seeds) all.insert(all.end(), s.begin(), s.end());
  for (int i = 0; i < kThreads * kEach; ++i) serial.push_back(seed_from_default_generator());
  std::sort(all.begin(), all.end());
  std::sort(serial.begin(), serial.end());
  CHECK(all == serial);
}
