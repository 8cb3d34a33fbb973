// Linear attention against softmax attention, forward + backward, one thread,
// one head, batch 1, d = e = 64, at T = 256, 1024, 4096 (`heed_bench efficient`).
//
// FLOP counted, as each algorithm performs it (the softmax itself and elu are
// left out: O(T^2) and O(T d), not multiply-adds):
//   softmax attention   q k^T and w v forward, four products backward: 12 T^2 d
//                       (the causal mask hides half the scores but the dense
//                       kernels still compute them all)
//   linear, not causal  phi(K)^T V and phi(Q) KV forward, twice that backward: 12 T d^2
//   linear, causal      the recurrence: 2 FMAs per state element and step forward
//                       (update, read), 6 backward (update, read and dq; then
//                       R, dk and dv): 16 T d^2
// So linear attention does d / T of softmax's work: 1/4 at T = 256, 1/64 at 4096.
//   sliding window      the fused kernel with the causal band of width w = 256:
//                       it skips the key tiles outside the band, so its work is
//                       counted as the 12 T w d of the keys it sees (less the
//                       triangle at the start); the tiles it does visit at the
//                       band's edges are partly hidden, which the count leaves out.
#include <algorithm>
#include <cstdio>
#include <functional>

#include "nn/nn.h"
#include "tests/bench/bench.h"

namespace heed::bench {

void bench_efficient(const Peak& peak) {
  constexpr int64_t d = 64, w = 256;
  std::printf(
      "\nEfficient attention, forward + backward (1 head, batch 1, d %lld), one thread, median of 5\n"
      "  (softmax: 12 T^2 d FLOP; linear: 12 T d^2, causal 16 T d^2)\n",
      (long long)d);
  Generator gen(7);
  for (int64_t T : {256, 1024, 4096}) {
    Tensor q0 = randn({1, T, d}, gen), k0 = randn({1, T, d}, gen), v0 = randn({1, T, d}, gen);
    Tensor g = randn({1, T, d}, gen);
    Tensor causal = nn::causal_mask(T);
    struct Row {
      const char* name;
      double flop;
      std::function<Variable(const Variable&, const Variable&, const Variable&)> attend;
    };
    const double Td = double(T) * d;
    Row rows[] = {
        {"softmax", 12.0 * T * Td,
         [](auto& q, auto& k, auto& v) { return nn::scaled_dot_product_attention(q, k, v).output; }},
        {"softmax, causal", 12.0 * T * Td,
         [&](auto& q, auto& k, auto& v) { return nn::scaled_dot_product_attention(q, k, v, causal).output; }},
        {"linear", 12.0 * Td * d, [](auto& q, auto& k, auto& v) { return nn::linear_attention(q, k, v); }},
        {"linear, causal", 16.0 * Td * d,
         [](auto& q, auto& k, auto& v) { return nn::linear_attention(q, k, v, true); }},
        {"window 256, fused", 12.0 * (double(T) * std::min(T, w) - 0.5 * std::min(T, w) * std::min(T, w)) * d,
         [](auto& q, auto& k, auto& v) {
           nn::Band band = nn::sliding_window_band(w, /*causal=*/true);
           return nn::fused_attention(q, k, v, {.window_left = band.left, .window_right = band.right});
         }},
    };
    for (const Row& row : rows) {
      Timing t = time_runs(
          [&] {
            Variable q(q0, true), k(k0, true), v(v0, true);
            row.attend(q, k, v).backward(g);
          },
          5, 1);
      double gflops = row.flop / t.median / 1e9;
      std::printf("  T = %4lld  %-16s %9.3f ms (best %9.3f)  %8.1f MFLOP  %6.1f GFLOP/s  %5.1f%% of peak\n",
                  (long long)T, row.name, t.median * 1e3, t.best * 1e3, row.flop / 1e6, gflops,
                  gflops / peak.fma_gflops * 100);
    }
  }
}

}  // namespace heed::bench
