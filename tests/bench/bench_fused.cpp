// Fused against plain attention (`heed_bench fused`, one thread): one head,
// batch 1, Dh = 64, T = S = 256, 1024, 4096, forward and backward.
//
//  - plain: nn::scaled_dot_product_attention recorded, then backward: the
//    (T, S) scores and weights are real tensors, in the graph.
//  - fused: nn::fused_attention, then backward: tiles of keys, online
//    softmax, the weights recomputed in the backward; the graph holds q, k, v,
//    out and the (T,) log-sum-exp.
//
// FLOPs are the useful products of both, 12 T S Dh (forward q kᵀ and P v,
// backward dV, dP, dQ, dK); the fused backward also recomputes q kᵀ (14 T S Dh
// done), which its GFLOP/s does not count. Causal rows count half.
//
// GFLOP/s and % of peak are of the median wall time; "cpu ms" is the CPU time
// per step, which other tenants of a shared host do not inflate.
//
// Peak memory is the high-water mark of live tensor storage
// (detail::peak_storage_bytes()) over one forward + backward, above what was
// live before it (q, k, v, the output gradient). It leaves out the kernels'
// per-thread scratch (std::vector, not storage): for the fused kernels that is
// (Br, Dh + Bc + Dv) floats in the forward and (T, Dh + 1) plus a few tiles in
// the backward, O(T) too. Targets: the fused peak grows linearly with T, and the
// fused time is no more than the plain one at T >= 1024.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

#include "nn/nn.h"
#include "tests/bench/bench.h"

namespace heed::bench {
namespace {

struct Row {
  Timing time;
  double cpu = 0;  // this thread's CPU seconds per step, the median over the timed steps
  int64_t peak_bytes = 0;
};

// This shared host runs other jobs on its two cores: wall time then counts
// the time the scheduler gave them too, CPU time does not (on one thread the
// step's work is all on the calling thread).
double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

Row run(bool fused, bool causal, int64_t T, int reps, int warmup) {
  constexpr int64_t Dh = 64;
  Generator gen(3);
  Variable q(randn({1, 1, T, Dh}, gen), true), k(randn({1, 1, T, Dh}, gen), true),
      v(randn({1, 1, T, Dh}, gen), true);
  Tensor grad = randn({1, 1, T, Dh}, gen);
  Tensor mask = causal ? nn::causal_mask(T) : Tensor();  // the plain path's (T, S) mask, made once
  auto step = [&] {
    q.zero_grad(), k.zero_grad(), v.zero_grad();
    Variable out = fused ? nn::fused_attention(q, k, v, {.causal = causal})
                         : nn::scaled_dot_product_attention(q, k, v, mask).output;
    out.backward(grad);
  };
  Row row;
  std::vector<double> cpu;
  row.time = time_runs(
      [&] {
        const double start = cpu_seconds();
        step();
        cpu.push_back(cpu_seconds() - start);
      },
      reps, warmup);
  cpu.erase(cpu.begin(), cpu.begin() + warmup);
  std::sort(cpu.begin(), cpu.end());
  row.cpu = cpu[cpu.size() / 2];
  q.zero_grad(), k.zero_grad(), v.zero_grad();
  const int64_t before = detail::live_storage_bytes();
  detail::reset_peak_storage_bytes();
  step();
  row.peak_bytes = detail::peak_storage_bytes() - before;
  return row;
}

}  // namespace

void bench_fused(const Peak& peak) {
  std::printf(
      "\nFused vs plain attention, forward + backward (1 head, batch 1, Dh 64, T = S), one thread, "
      "median\n");
  std::printf("  %-6s %5s %-6s %10s %10s %10s %8s %7s %11s\n", "mask", "T", "kind", "ms", "best ms", "cpu ms",
              "GFLOP/s", "% peak", "peak MiB");
  for (bool causal : {false, true})
    for (int64_t T : {256, 1024, 4096}) {
      const int reps = T >= 4096 ? 3 : 7, warmup = T >= 4096 ? 1 : 2;
      const double flop = 12.0 * T * T * 64 * (causal ? 0.5 : 1.0);
      Row rows[2];
      for (int fused = 0; fused < 2; ++fused) {
        const Row& r = rows[fused] = run(fused == 1, causal, T, reps, warmup);
        const double gflops = flop / r.time.median / 1e9;
        std::printf("  %-6s %5lld %-6s %10.2f %10.2f %10.2f %8.1f %6.1f%% %11.2f\n",
                    causal ? "causal" : "none", (long long)T, fused ? "fused" : "plain", r.time.median * 1e3,
                    r.time.best * 1e3, r.cpu * 1e3, gflops, gflops / peak.fma_gflops * 100,
                    double(r.peak_bytes) / (1 << 20));
      }
      std::printf(
          "  %-6s %5lld fused/plain: time %.2fx, peak memory %.3fx%s\n", "", (long long)T,
          rows[1].time.median / rows[0].time.median, double(rows[1].peak_bytes) / rows[0].peak_bytes,
          T >= 1024 ? (rows[1].time.median <= rows[0].time.median ? "  PASS (no slower)" : "  MISS (slower)")
                    : "");
    }
}

}  // namespace heed::bench
