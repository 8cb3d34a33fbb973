// Transformer training steps, the workloads of compare-libtorch's tf and tftiny
// modes (../shared/bench/compare-libtorch tf tftiny runs libtorch's
// nn::Transformer on the very same shapes; this bench cannot run it, so it
// prints heed's figures for a closing note to set beside libtorch's):
//
//  - step: d_model 128, 4 heads, 2 + 2 layers, feed-forward 512, batch 32,
//    source and target length 32, vocab 1000, dropout 0.1 (libtorch's
//    default), post-norm with final norms, sinusoidal positions,
//    cross-entropy, Adam. Targets: >= 60% of the one-core FMA peak; on two
//    threads >= 1.6x the one-thread speed; peak RSS of this process <= 64 MiB.
//    The same step with .fused = true (every attention through the flash
//    kernel, attention dropout inside it) is printed beside it, with the peak
//    of heed's live tensor storage over one step (detail::peak_storage_bytes)
//    both ways, and the process's peak RSS for each: the fused steps run first,
//    then the pool is trimmed and the peak reset (Linux's clear_refs) before
//    the plain ones, so each figure is its own. At T = S = 32 the weights are
//    small: what fusing saves grows with T^2.
//  - tiny step: d_model 32, 2 heads, 1 + 1 layers, feed-forward 128, batch 8,
//    lengths 10, vocab 100: where per-op overhead shows.
//
// It runs as its own process (`heed_bench transformer`; the whole bench starts
// it as a child) so that the peak RSS it prints is the training's own, not that
// of the 512 MiB arrays the copy bandwidth is measured on. It measures the FMA
// peak again for the same reason.
//
// FLOPs are counted from the shapes: the matmuls of the forward (projections,
// q kᵀ and weights v per head, the output layer) times 3, since the backward
// of each matmul is two matmuls of the same size. Softmax, norms, dropout and
// the optimizer are not counted: they are the overhead the share of peak shows.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "nn/nn.h"
#include "nn/transformer.h"
#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

struct Workload {
  const char* name;
  int64_t vocab, d, heads, layers, ff, batch, S, T;
};

double step_flop(const Workload& w) {
  const double D = double(w.d), F = double(w.ff), S = double(w.S), T = double(w.T);
  // Per sequence: q, k, v, out projections (4 D^2 per token) and the two
  // products with the (T, S) weights (2 T S D), for each attention.
  double encoder = S * (4 * D * D + 2 * D * F) + 2 * S * S * D;
  double decoder = T * (4 * D * D) + 2 * T * T * D                      // self-attention
                   + T * (2 * D * D) + S * (2 * D * D) + 2 * T * S * D  // cross: q, out on T; k, v on S
                   + T * (2 * D * F);                                   // feed-forward
  double forward = double(w.layers) * (encoder + decoder) + T * D * double(w.vocab);
  return 3.0 * 2.0 * forward * double(w.batch);  // a multiply-add is 2 FLOPs; backward is 2x forward
}

// Peak resident memory of this process so far (Linux's VmHWM), in MiB.
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Hands the pool's cached buffers back and restarts VmHWM from the current
// resident size, so the next peak_rss_mib() is that of what runs after.
void reset_peak_rss() {
  kernels::pool_trim();
  std::ofstream("/proc/self/clear_refs") << "5";
}

struct Trainer {
  nn::Seq2SeqTransformer model;
  nn::Adam adam;
  nn::CrossEntropyLoss criterion;
  Tensor source, input, output;
  int64_t vocab;

  explicit Trainer(const Workload& w, bool fused = false)
      : model({.src_vocab = w.vocab,
               .tgt_vocab = w.vocab,
               .d_model = w.d,
               .nhead = w.heads,
               .num_encoder_layers = w.layers,
               .num_decoder_layers = w.layers,
               .dim_feedforward = w.ff,
               .dropout = 0.1f,
               .max_length = std::max(w.S, w.T) + 1,
               .fused = fused,
               .seed = 0}),
        adam(model.named_parameters(), {.lr = 1e-3}),
        vocab(w.vocab) {
    Generator gen(1);
    auto ids = [&](Shape shape) {
      Tensor t = empty(shape);
      for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = float(gen.randint(w.vocab));
      return t;
    };
    source = ids({w.batch, w.S});
    Tensor target = ids({w.batch, w.T + 1});
    input = contiguous(narrow(target, 1, 0, w.T));
    output = contiguous(narrow(target, 1, 1, w.T));
  }

  float step() {
    adam.zero_grad();
    Variable loss = criterion(reshape(model.forward(source, input), {-1, vocab}), flatten(output));
    loss.backward();
    adam.step();
    return loss.item();
  }
};

struct StepFigures {
  Timing wall;
  double cpu_median = 0;        // process CPU seconds per step (all threads), median
  int64_t peak_step_bytes = 0;  // heed's live tensor storage at its highest during one step
};

double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

StepFigures time_steps(const Workload& w, int threads, int reps, bool fused = false) {
  set_num_threads(threads);
  Trainer trainer(w, fused);
  StepFigures f;
  trainer.step();  // Adam's moments exist from here on
  detail::reset_peak_storage_bytes();
  trainer.step();
  f.peak_step_bytes = detail::peak_storage_bytes();
  std::vector<double> cpu;
  f.wall = time_runs(
      [&] {
        const double c0 = cpu_seconds();
        trainer.step();
        cpu.push_back(cpu_seconds() - c0);
      },
      reps, 1);
  cpu.erase(cpu.begin());  // the warm-up's
  std::sort(cpu.begin(), cpu.end());
  f.cpu_median = cpu[cpu.size() / 2];
  set_num_threads(1);
  return f;
}

}  // namespace

void bench_transformer() {
  const Workload step{"step", 1000, 128, 4, 2, 512, 32, 32, 32};
  const Workload tiny{"tiny step", 100, 32, 2, 1, 128, 8, 10, 10};
  const double peak1 = measure_fma_peak(1), peak2 = measure_fma_peak(2);
  std::printf(
      "\nTransformer training steps (forward, backward, Adam), median after warm-up; "
      "FMA peak %.1f GFLOP/s (1 thread), %.1f (2 threads)\n",
      peak1, peak2);

  const double flop = step_flop(step);
  StepFigures fused = time_steps(step, 1, 15, true);
  const double fused_rss = peak_rss_mib();
  reset_peak_rss();
  StepFigures plain = time_steps(step, 1, 15);
  const double plain_rss = peak_rss_mib();
  Timing one = plain.wall;
  double share = flop / one.median / 1e9 / peak1 * 100;
  std::printf("  d 128, 4 heads, 2+2 layers, ff 512, batch 32, lengths 32, vocab 1000: %.2f GFLOP\n",
              flop / 1e9);
  std::printf("    1 thread   %8.2f ms (best %8.2f)  %6.1f GFLOP/s  %5.1f%% of peak  %s (target 60%%)\n",
              one.median * 1e3, one.best * 1e3, flop / one.median / 1e9, share,
              share >= 60 ? "PASS" : "MISS");
  for (const auto& [name, f] : {std::pair<const char*, const StepFigures&>{"plain", plain}, {"fused", fused}})
    std::printf(
        "    1 thread, %s attention: %8.2f ms wall (best %8.2f), %8.2f ms CPU, %5.1f%% of peak; "
        "tensor storage peak in a step %6.1f MiB\n",
        name, f.wall.median * 1e3, f.wall.best * 1e3, f.cpu_median * 1e3,
        flop / f.wall.median / 1e9 / peak1 * 100, double(f.peak_step_bytes) / (1 << 20));
  std::printf("    peak RSS, 1 thread: fused steps %.1f MiB, plain steps %.1f MiB\n", fused_rss, plain_rss);
  Timing two = time_steps(step, 2, 15).wall;
  double speedup = one.median / two.median;
  std::printf("    2 threads  %8.2f ms (best %8.2f)  %6.1f GFLOP/s  %5.2fx one thread  %s (target 1.6x)\n",
              two.median * 1e3, two.best * 1e3, flop / two.median / 1e9, speedup,
              speedup >= 1.6 ? "PASS" : "MISS");
  double rss = peak_rss_mib();
  std::printf("    peak RSS of this process (plain steps, 1 and 2 threads) %.1f MiB  %s (target 64 MiB)\n",
              rss, rss <= 64 ? "PASS" : "MISS");

  Timing small = time_steps(tiny, 1, 201).wall;
  std::printf("  tiny: d 32, 2 heads, 1+1 layers, ff 128, batch 8, lengths 10, vocab 100: %.1f MFLOP\n",
              step_flop(tiny) / 1e6);
  std::printf("    1 thread   %8.3f ms (best %8.3f)  %6.1f GFLOP/s\n", small.median * 1e3, small.best * 1e3,
              step_flop(tiny) / small.median / 1e9);
  std::printf(
      "  (libtorch on the same shapes: ../shared/bench/compare-libtorch tf tftiny; targets: the step\n"
      "   3x faster than libtorch's best, the tiny step 8x)\n");
}

}  // namespace heed::bench
