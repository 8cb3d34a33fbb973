// What a recurrent graph costs: the memory it holds between forward and
// backward, and the backward's time per step as sequences grow.
//
// Memory: a GRU encoder-decoder step (batch 32, length 32, hidden 128). What
// the graph holds is every byte alive after the forward beyond the weights and
// the inputs (the user keeps only the loss); what its backward reads is every
// Saved tensor a backward closure actually reads, traced as backward runs. A
// graph that keeps only what backward reads holds little more than that.
//
// Time: a GRU layer's backward, per step, at T = 16 to 1024. Walking a
// (B, T, D) sequence step by step must cost O(T) in backward: one node for
// all steps (unbind), each step's gradient added into its own slice of one
// (B, T, D) gradient. Held to 1.5x from T = 16 to T = 1024.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "nn/nn.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

constexpr int64_t kBatch = 32, kHidden = 128;

double mib(int64_t bytes) { return double(bytes) / (1 << 20); }

void graph_memory() {
  constexpr int64_t T = 32;
  Generator gen(0);
  nn::GRU encoder({.input_size = kHidden, .hidden_size = kHidden}, gen),
      decoder({.input_size = kHidden, .hidden_size = kHidden}, gen);
  nn::Linear head({.in_features = kHidden, .out_features = kHidden}, gen);
  Tensor source = randn({kBatch, T, kHidden}, gen), target_in = randn({kBatch, T, kHidden}, gen);
  std::vector<float> ids(kBatch * T);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = float(i * 7 % kHidden);
  Tensor target = from_vector(ids, {kBatch * T});

  std::unordered_map<const Storage*, int64_t> before;  // weights and inputs: not the graph's
  for (const Variable& p : encoder.parameters()) before[p.value().storage().get()] = 0;
  for (const Variable& p : decoder.parameters()) before[p.value().storage().get()] = 0;
  for (const Variable& p : head.parameters()) before[p.value().storage().get()] = 0;
  for (const Tensor* t : {&source, &target_in, &target}) before[t->storage().get()] = 0;

  int64_t base = detail::live_storage_bytes();
  Variable loss;
  {
    nn::RNNOutput enc = encoder.forward(source);
    nn::RNNOutput dec = decoder.forward(target_in, enc.h_n);
    Variable logits = head.forward(reshape(dec.output, {kBatch * T, kHidden}));
    loss = cross_entropy(logits, target);
  }  // the user keeps only the loss
  int64_t held = detail::live_storage_bytes() - base;

  std::unordered_map<const Storage*, int64_t> reads;
  detail::trace_saved_reads(&reads);
  loss.backward();
  detail::trace_saved_reads(nullptr);
  int64_t read = 0;
  for (const auto& [storage, bytes] : reads)
    if (!before.count(storage)) read += bytes;
  int64_t grads = 0;  // the weights' gradients, which backward made and keeps
  for (const nn::Module* m : std::initializer_list<const nn::Module*>{&encoder, &decoder, &head})
    for (const Variable& p : m->parameters()) grads += p.numel() * int64_t(sizeof(float));
  int64_t after = detail::live_storage_bytes() - base - grads;

  std::printf("\ngraph memory: a GRU encoder-decoder step (batch %lld, length %lld, hidden %lld)\n",
              (long long)kBatch, (long long)T, (long long)kHidden);
  std::printf("  held by the graph after forward  %7.2f MiB (beyond weights and inputs)\n", mib(held));
  std::printf("  read by its backward             %7.2f MiB (saved tensors, traced)\n", mib(read));
  std::printf("  held / read                      %7.2fx   %s (target <= 1.10x)\n",
              double(held) / double(read), double(held) <= 1.10 * double(read) ? "PASS" : "MISS");
  std::printf("  held after backward              %7.2f MiB (the graph is freed; the loss remains)\n",
              mib(after));
}

void gru_backward_per_step() {
  std::printf("\nGRU layer backward per step (batch %lld, hidden %lld, input %lld), median of 5\n",
              (long long)kBatch, (long long)kHidden, (long long)kHidden);
  Generator gen(1);
  nn::GRU gru({.input_size = kHidden, .hidden_size = kHidden}, gen);
  double first = 0, last = 0;
  for (int64_t T : {16, 64, 256, 1024}) {
    Tensor x = randn({kBatch, T, kHidden}, gen);
    std::vector<double> forward, backward;  // seconds, one per run after a warm-up
    for (int run = 0; run < 6; ++run) {
      gru.zero_grad();
      auto start = std::chrono::steady_clock::now();
      Variable loss = sum(gru.forward(x).output);
      auto middle = std::chrono::steady_clock::now();
      loss.backward();
      auto end = std::chrono::steady_clock::now();
      if (run == 0) continue;
      forward.push_back(std::chrono::duration<double>(middle - start).count());
      backward.push_back(std::chrono::duration<double>(end - middle).count());
    }
    std::sort(forward.begin(), forward.end());
    std::sort(backward.begin(), backward.end());
    double per_step = backward[2] * 1e6 / double(T);
    std::printf("  T = %4lld   backward %7.1f us per step (best %7.1f)   forward %7.1f us per step\n",
                (long long)T, per_step, backward[0] * 1e6 / double(T), forward[2] * 1e6 / double(T));
    if (T == 16) first = per_step;
    last = per_step;
  }
  std::printf("  T = 1024 / T = 16: %.2fx per step   %s (target <= 1.5x)\n", last / first,
              last <= 1.5 * first ? "PASS" : "MISS");
}

}  // namespace

void bench_graph() {
  graph_memory();
  gru_backward_per_step();
}

}  // namespace heed::bench
