// Shared pieces of `make bench`: a timer that reports the median of repeated
// runs after warm-up, and the machine's own peaks that every figure is held to.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

namespace heed::bench {

// Wall time of `reps` calls to f, after `warmup` uncounted calls: the median,
// which every target is judged on, and the best, which shows how much of the
// spread is this shared host's noise (other tenants slow a run down, never up).
struct Timing {
  double median = 0, best = 0;
};

template <class F>
Timing time_runs(F&& f, int reps = 7, int warmup = 2) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return {times[size_t(reps / 2)], times[0]};
}

template <class F>
double median_seconds(F&& f, int reps = 7, int warmup = 2) {
  return time_runs(f, reps, warmup).median;
}

// This machine's measured peaks for a given thread count.
struct Peak {
  int threads = 1;
  double fma_gflops = 0;  // tight FMA loop, FP32
  double copy_gbs = 0;    // 256 MiB copy, bytes read + bytes written per second
};

// Each part of the bench; bench_main.cpp runs them in this order.
Peak measure_peak(int threads);                // bench_peak.cpp
double measure_fma_peak(int threads);          // bench_peak.cpp: the FMA half alone (no 512 MiB arrays)
void bench_sgemm(const Peak& peak);            // bench_sgemm.cpp
void bench_softmax(const Peak& peak);          // bench_softmax.cpp
void bench_autograd();                         // bench_autograd.cpp
void bench_graph();                            // bench_graph.cpp
void bench_attention(const Peak& one_thread);  // bench_attention.cpp
void bench_fused(const Peak& one_thread);      // bench_fused.cpp
void bench_efficient(const Peak& one_thread);  // bench_efficient.cpp
void bench_training();                         // bench_training.cpp
void bench_transformer();                      // bench_transformer.cpp: run as its own process

}  // namespace heed::bench
