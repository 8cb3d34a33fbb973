// Lesson 03: kernels. How one loop nest climbs from 1% to most of a machine's peak.
//
// Every layer of the later lessons is a matmul at heart (Linear, attention's Q·Kᵀ
// and P·V, and the backward of each, which is two more), so the speed of one loop
// nest is the speed of the course. This lesson climbs a ladder of matmuls, each
// rung a short function below, each checked against the naive one and timed:
//
//   rung 1  naive i-j-k       the formula as written                         section 2
//   rung 2  loop order i-k-j  the inner loop walks memory with stride 1      section 3
//   rung 3  cache blocking    a block of B stays in L2 while A passes by     section 4
//   rung 4  packing           that block copied in the order it is read      section 5
//   rung 5  micro-kernel      a 4 x 2W tile of C held in vector registers    section 6
//   rung 6  OpenMP            threads over blocks of C, never over the sum   section 7
//   rung 7  heed::matmul      heed's sgemm (tensor/kernels/sgemm.cpp)        section 8
//
// The yardstick is this machine's own FMA peak, measured first (section 1), and
// every rung is printed as GFLOP/s and as a share of it. Then softmax: the same
// care spent on numbers instead of time (section 9).
//
// The rungs multiply square (n, n) matrices with n a multiple of 256, which keeps
// each one a few lines long; the exercises (exercises.h) take any shape.
// Timings are printed, never asserted: they depend on the machine and on what
// else it runs. Correctness is asserted.
#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "lessons/03_kernels/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/svg.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/threads.h"
// Lessons include only heed's public headers, with this one exception:
// tensor/kernels/simd.h is not installed, but it is the one header a lesson on
// kernels must open. It gives simd::Vec, the widest vector type the compiler
// targets (16 floats with AVX-512, 8 with AVX2, 4 with NEON, else 1), with load,
// store, broadcast and fma, so a kernel reads like scalar code and runs on each.
#include "tensor/kernels/simd.h"

using namespace heed;

namespace {

using V = simd::Vec;

// The best wall time of f over at least `runs` calls, calling it again until
// `budget` seconds have passed. The best, not the mean: other programs on a
// shared machine only ever slow a run down.
template <class F>
double best_seconds(F&& f, double budget, int runs = 3) {
  double best = std::numeric_limits<double>::infinity(), total = 0;
  for (int r = 0; r < runs || total < budget; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    total += seconds;
  }
  return best;
}

// ---------------------------------------------------------------- 1. the ceiling
// A core's float peak is (FMA units) x (floats per vector) x 2 flops x (clock).
// Rather than look those up (turbo clocks; AVX-512 units that are two 256-bit
// halves on some chips), measure it: a loop of nothing but vector FMAs.
// They must be independent. An FMA's result arrives ~4 cycles after it starts and
// a core starts one or two each cycle, so 4 to 8 must be in flight at once; a
// single chain acc = fma(acc, x, y) waits on itself and measures the latency, not
// the throughput. 12 chains leave room. The micro-kernel of section 6 obeys the
// same rule with its 4 x 2 accumulators.
constexpr int kChains = 12;

float fma_chains(int64_t iterations, float seed) {
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = V::broadcast(seed + float(i));
  // x -> 0.999999 x + 1e-6 stays near where it starts: never inf, never a slow denormal.
  const V mul = V::broadcast(0.999999f), add = V::broadcast(1e-6f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = fma(acc[i], mul, add);
  }
  V sum = V::zero();
  for (int i = 0; i < kChains; ++i) sum = sum + acc[i];
  return hsum(sum);  // the caller keeps it, so the compiler cannot drop the loop
}

// GFLOP/s of `threads` threads, each running the chains on its own core.
double fma_peak_gflops(int threads) {
  const int64_t iterations = 8'000'000 / V::width;  // ~1-2 ms at 3-4 GHz
  std::vector<float> out(static_cast<size_t>(threads));
  volatile float sink = 0;
  const double seconds = best_seconds(
      [&] {
#if defined(_OPENMP)  // (as everywhere in heed: without OpenMP, one thread and no warning)
#pragma omp parallel for num_threads(threads)
#endif
        for (int t = 0; t < threads; ++t) out[size_t(t)] = fma_chains(iterations, float(t));
        for (float v : out) sink = sink + v;
      },
      0.1, 20);
  return double(threads) * double(iterations) * kChains * V::width * 2 / seconds * 1e-9;
}

// ---------------------------------------------------------------- 2. rung 1: naive
//   c_ij = sum_k a_ik b_kj      a, b, c: (n, n), row-major: a_ik at a[i n + k]
// 2 n^3 flops: a multiply and an add per term. Two things hold it back. The inner
// loop runs down a column of B, n floats (4n bytes) apart: every step is a new
// cache line, of whose 64 bytes it uses 4. And s is one chain of dependent adds:
// each waits ~4 cycles for the one before, the trap section 1 avoids.
void matmul_naive(const float* a, const float* b, float* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (int64_t k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
}

// ---------------------------------------------------------------- 3. rung 2: i-k-j
// Swap the two inner loops: for each a_ik, add a_ik x (row k of B) into row i of C.
//   c[i, :] += a_ik b[k, :]     for k = 0, 1, ..., n - 1
// The same terms reach each c_ij in the same order (k = 0, 1, ...), so the answer
// is the naive one up to rounding (section 8 says why not to the bit); but the
// inner loop now walks rows of B and C with stride 1, using every byte of every
// line, and its j's are independent, so the compiler makes it vector FMAs
// (V::width of them at once).
// What is left: each FMA loads C, loads B and stores C (three memory operations for
// one FMA), and for every row of A the whole of B streams past again: n^2 floats,
// 256 KiB at n = 256 (fits in L2), 4 MiB at n = 1024 (does not).
void matmul_ikj(const float* a, const float* b, float* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    float* ci = c + i * n;
    std::fill_n(ci, n, 0.0f);
    for (int64_t k = 0; k < n; ++k) {
      const float aik = a[i * n + k];
      for (int64_t j = 0; j < n; ++j) ci[j] += aik * b[k * n + j];
    }
  }
}

// ---------------------------------------------------------------- 4. rung 3: blocking
// Cut B into (KC, NC) blocks and let every row of A meet a block while it is in
// cache:
//   for jc by NC, for pc by KC, for every row i:
//     c[i, jc:jc+NC] += a[i, pc:pc+KC] · b[pc:pc+KC, jc:jc+NC]
// A block of 256 x 256 floats is 256 KiB, inside a recent core's L2 (512 KiB to
// 2 MiB), and the row of C's block (1 KiB) stays in L1. Each c_ij still takes its
// terms in the order k = 0, 1, ...: K blocks in order, k in order within.
// Do not expect much from this rung alone. Rung 2 is held back by its three memory
// operations per FMA more than by where B comes from, and a modern L3 streams B
// fast enough (at n = 256 B is a single block anyway). Blocking is what makes the
// next two rungs pay: a block small enough to stay in L2 can be copied once and
// then read n times.
constexpr int64_t KC = 256, NC = 256;

void matmul_blocked(const float* a, const float* b, float* c, int64_t n) {
  std::fill_n(c, n * n, 0.0f);
  for (int64_t jc = 0; jc < n; jc += NC)
    for (int64_t pc = 0; pc < n; pc += KC)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = pc; k < pc + KC; ++k) {
          const float aik = a[i * n + k];
          for (int64_t j = jc; j < jc + NC; ++j) c[i * n + j] += aik * b[k * n + j];
        }
}

// ---------------------------------------------------------------- 5. rung 4: packing
// Inside a block the kernel reads B's rows n floats apart (4 KiB at n = 1024, where
// addresses compete for the same few slots of L1). Packing copies the block, once,
// into panels of NR = 2W columns (two vectors), each (KC, NR) and k-major:
//   panel q, element (k, j)  at  packed[q KC NR + k NR + j]
// so one step of the kernel reads NR adjacent floats and a panel is one run of KC NR
// floats (32 KiB with AVX-512). The copy costs a read and a write per float of B,
// against the 2 n flops that float then takes part in.
// The kernel on a panel holds the NR sums of one row of C in two vector registers
// for all KC steps, so C is loaded and stored once per panel instead of once per
// k: one load of B per FMA, where rung 2 needed three memory operations. What is
// left is section 1's trap: the two sums are two chains, and a core needs 4 to 8
// FMAs in flight, so this rung stops at a half (or a quarter) of the peak.
constexpr int NR = 2 * V::width;

void pack_block(const float* b, int64_t n, int64_t pc, int64_t jc, float* packed) {
  for (int64_t q = 0; q < NC / NR; ++q)
    for (int64_t k = 0; k < KC; ++k)
      std::copy_n(b + (pc + k) * n + jc + q * NR, NR, packed + (q * KC + k) * NR);
}

void matmul_packed(const float* a, const float* b, float* c, int64_t n) {
  std::vector<float> packed(size_t(KC * NC));
  std::fill_n(c, n * n, 0.0f);
  for (int64_t jc = 0; jc < n; jc += NC)
    for (int64_t pc = 0; pc < n; pc += KC) {
      pack_block(b, n, pc, jc, packed.data());
      for (int64_t q = 0; q < NC / NR; ++q) {
        const float* panel = packed.data() + q * KC * NR;
        for (int64_t i = 0; i < n; ++i) {
          float* ci = c + i * n + jc + q * NR;
          const float* ai = a + i * n + pc;
          V acc0 = V::load(ci), acc1 = V::load(ci + V::width);
          for (int64_t k = 0; k < KC; ++k) {
            const V aik = V::broadcast(ai[k]);
            acc0 = fma(aik, V::load(panel + k * NR), acc0);
            acc1 = fma(aik, V::load(panel + k * NR + V::width), acc1);
          }
          acc0.store(ci), acc1.store(ci + V::width);
        }
      }
    }
}

// ---------------------------------------------------------------- 6. rung 5: micro-kernel
// Take MR = 4 rows of C at once. The tile
//   c (MR, NR) += a (MR, KC) · panel (KC, NR)
// lives in MR x 2 vector registers (8 of AVX-512's 32, or of AVX2's 16) for all KC
// steps, and each step costs 2 loads of B, MR broadcasts of A and 2 MR FMAs that
// are independent of each other: 8 chains, the number section 1 asks for, and
// every B vector loaded feeds MR FMAs instead of one.
// The k loop is unrolled by 4: its bookkeeping (a counter, a pointer, a compare
// and a branch) would otherwise take issue slots from only 8 FMAs; unrolled it
// is paid once per 32 (on the machine this lesson was written on, that alone took
// this rung from 50-70% of the peak to over 90%).
// A's 4 rows are read in place here; heed's sgemm also packs A, into MR-tall
// k-major panels, so that the kernel walks one stream of A instead of MR (exercise
// 3 does that). The tile starts from C and goes back to it, so each c_ij still
// takes its terms in the order k = 0, 1, ...
constexpr int MR = 4;

inline void micro_kernel(const float* a, int64_t lda, const float* panel, float* c, int64_t ldc) {
  V acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = V::load(c + i * ldc), acc[i][1] = V::load(c + i * ldc + V::width);
#pragma GCC unroll 4
  for (int64_t k = 0; k < KC; ++k, panel += NR) {
    const V b0 = V::load(panel), b1 = V::load(panel + V::width);
    for (int i = 0; i < MR; ++i) {
      const V ai = V::broadcast(a[i * lda + k]);
      acc[i][0] = fma(ai, b0, acc[i][0]);
      acc[i][1] = fma(ai, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < MR; ++i) acc[i][0].store(c + i * ldc), acc[i][1].store(c + i * ldc + V::width);
}

void matmul_micro(const float* a, const float* b, float* c, int64_t n) {
  std::vector<float> packed(size_t(KC * NC));
  std::fill_n(c, n * n, 0.0f);
  for (int64_t jc = 0; jc < n; jc += NC)
    for (int64_t pc = 0; pc < n; pc += KC) {
      pack_block(b, n, pc, jc, packed.data());
      for (int64_t i = 0; i < n; i += MR)
        for (int64_t q = 0; q < NC / NR; ++q)
          micro_kernel(a + i * n + pc, n, packed.data() + q * KC * NR, c + i * n + jc + q * NR, n);
    }
}

// ---------------------------------------------------------------- 7. rung 6: threads
// Split the rows of C over threads: each thread owns whole tiles of C and computes
// each of them exactly as rung 5 does, whatever the number of threads. The B block
// is packed once, by all threads together (whole panels each), and then only read.
// The loop that is never split is the sum over k. Two threads summing halves of
// c_ij's terms would add them in another order, and float addition is not
// associative: the answer would change with the thread count (the run below shows
// it would). Split over outputs only, it is the same to the bit on 1, 2 or 64 threads.
void matmul_threads(const float* a, const float* b, float* c, int64_t n) {
  [[maybe_unused]] const int threads = num_threads();  // unused without OpenMP
  std::vector<float> packed(size_t(KC * NC));
  std::fill_n(c, n * n, 0.0f);
  for (int64_t jc = 0; jc < n; jc += NC)
    for (int64_t pc = 0; pc < n; pc += KC) {
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads)
#endif
      for (int64_t q = 0; q < NC / NR; ++q)
        for (int64_t k = 0; k < KC; ++k)
          std::copy_n(b + (pc + k) * n + jc + q * NR, NR, packed.data() + (q * KC + k) * NR);
          // The end of a parallel for is a barrier: the block is whole before any tile reads it.
#if defined(_OPENMP)
#pragma omp parallel for num_threads(threads)
#endif
      for (int64_t i = 0; i < n; i += MR)
        for (int64_t q = 0; q < NC / NR; ++q)
          micro_kernel(a + i * n + pc, n, packed.data() + q * KC * NR, c + i * n + jc + q * NR, n);
    }
}

// ---------------------------------------------------------------- the ladder
// One (n, n) product: a and b standard normal, c the rung's answer.
struct Problem {
  int64_t n;
  Tensor a, b, c;
};

Problem make_problem(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor a = randn({n, n}, gen), b = randn({n, n}, gen);
  return {n, a, b, zeros({n, n})};
}

struct Rung {
  std::string name;   // "cache blocking": its row of the table
  std::string label;  // "blocked": its bar of the chart
  std::function<void(Problem&)> run;
  bool threaded = false;  // runs on the lesson's threads, else on one
  bool slow = false;      // timed at a smaller n in full mode
};

Rung rung(std::string name, std::string label, void (*kernel)(const float*, const float*, float*, int64_t),
          bool threaded = false, bool slow = false) {
  return {std::move(name), std::move(label),
          [kernel](Problem& p) { kernel(p.a.data(), p.b.data(), p.c.data(), p.n); }, threaded, slow};
}

struct Timed {
  std::string name, label;
  int64_t n;
  int threads;
  double seconds, gflops;
  double difference;  // max |c - naive's c| at the check size
};

double max_difference(const Tensor& x, const Tensor& y) {
  double worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double d = std::fabs(double(x.data()[i]) - double(y.data()[i]));
    worst = d <= worst ? worst : (std::isnan(d) ? INFINITY : d);  // NaN counts as the worst
  }
  return worst;
}

bool same_bits(const Tensor& x, const Tensor& y) {
  return x.numel() == y.numel() && std::memcmp(x.data(), y.data(), size_t(x.numel()) * sizeof(float)) == 0;
}

// Runs every rung the same way: once at the check size against the naive answer
// (asserted), then timed at each size of the lesson.
class Ladder {
 public:
  static constexpr int64_t kCheck = 256;

  Ladder(const course::Lesson& lesson, std::vector<int64_t> sizes)
      : threads_(num_threads()),
        sizes_(std::move(sizes)),
        budget_(lesson.pick(0.1, 1.0)),
        slow_max_(lesson.pick(256, 512)),
        check_(make_problem(kCheck, lesson.seed())) {
    std::printf("FMA loop: %s vectors of %d floats, %d chains, the best of many ~1 ms runs\n", V::name,
                V::width, kChains);
    measure_peaks();
    std::printf("  1 thread:  %7.1f GFLOP/s\n", peak_one_);
    if (threads_ > 1) std::printf("  %d threads: %7.1f GFLOP/s\n", threads_, peak_all_);
    matmul_naive(check_.a.data(), check_.b.data(), check_.c.data(), kCheck);
    naive_ = clone(check_.c);
  }

  int threads() const { return threads_; }
  int64_t largest() const { return sizes_.back(); }
  double peak(int threads) const { return threads == 1 ? peak_one_ : peak_all_; }
  // Measured again before the table, keeping the best: on a shared machine a
  // measurement can only come out low, never high.
  void measure_peaks() {
    peak_one_ = std::max(peak_one_, fma_peak_gflops(1));
    peak_all_ = std::max(peak_all_, threads_ == 1 ? peak_one_ : fma_peak_gflops(threads_));
  }

  // Checks rung r against the naive answer, times it, prints a line per size.
  void climb(const Rung& r) {
    const int threads = r.threaded ? threads_ : 1;
    set_num_threads(threads);
    fill_(check_.c, std::nanf(""));
    r.run(check_);
    const double difference = max_difference(check_.c, naive_);
    HEED_CHECK(difference < 1e-3, "lesson 03: rung '", r.name, "' differs from the naive matmul by ",
               difference, " at n = ", kCheck);
    std::map<int64_t, Timed> timed;  // by the size actually run
    for (int64_t n : sizes_) {
      const int64_t size = r.slow ? std::min(n, slow_max_) : n;
      if (!timed.count(size)) {
        Problem p = make_problem(size, 7);
        const double seconds = best_seconds([&] { r.run(p); }, budget_);
        const double gflops = 2.0 * double(size) * double(size) * double(size) / seconds * 1e-9;
        timed[size] = {r.name, r.label, size, threads, seconds, gflops, difference};
        std::printf("  %-16s n = %4lld, %d thread%s %8.2f ms  %7.1f GFLOP/s  %5.1f%% of the peak\n",
                    r.name.c_str(), (long long)size, threads, threads == 1 ? ": " : "s:", seconds * 1e3,
                    gflops, 100 * gflops / peak(threads));
      }
      results_[n].push_back(timed[size]);
    }
    std::printf("  %-16s against the naive rung at n = %lld: max |difference| %.1e\n", "", (long long)kCheck,
                difference);
    set_num_threads(threads_);
  }

  // The whole ladder at size n: one row per rung.
  void print_table(int64_t n) const {
    std::printf("\n  the ladder at n = %lld; FMA peak %.1f GFLOP/s on 1 thread, %.1f on %d\n", (long long)n,
                peak_one_, peak_all_, threads_);
    std::printf("     %-16s %5s %7s %10s %9s %8s %10s\n", "rung", "n", "threads", "ms", "GFLOP/s", "% peak",
                "vs naive");
    int number = 0;
    bool above = false;
    for (const Timed& t : results_.at(n)) {
      const double percent = 100 * t.gflops / peak(t.threads);
      above = above || percent > 100;
      std::printf("  %-2d %-16s %5lld %7d %10.2f %9.1f %7.1f%% %10.1e\n", ++number, t.name.c_str(),
                  (long long)t.n, t.threads, t.seconds * 1e3, t.gflops, percent, t.difference);
    }
    if (above)
      std::printf(
          "  (above 100%%: other programs held a core while the peak was measured; run again when\n"
          "  the machine is quiet)\n");
  }

  void write_chart(const course::Lesson& lesson) const {
    const int64_t n = largest();
    std::vector<course::Bar> bars;
    for (const Timed& t : results_.at(n)) {
      std::string label = t.label;
      if (t.threads > 1) label += " x" + std::to_string(t.threads);
      if (t.n != n) label += " (n " + std::to_string(t.n) + ")";
      bars.push_back({label, t.gflops});
    }
    char title[160];
    std::snprintf(title, sizeof title, "lesson 03: the matmul ladder at n = %lld (GFLOP/s, log scale)",
                  (long long)n);
    char reference[96];
    std::snprintf(reference, sizeof reference, "FMA peak, %d thread%s: %.0f GFLOP/s", threads_,
                  threads_ == 1 ? "" : "s", peak_all_);
    course::write_bar_chart_svg(
        lesson.figure("ladder",
                      "GFLOP/s per rung against the dashed peak: the micro-kernel is where the big jump is"),
        bars,
        {.title = title,
         .y_label = "GFLOP/s",
         .reference = peak_all_,
         .reference_label = reference,
         .log_y = true});
  }

 private:
  int threads_;
  std::vector<int64_t> sizes_;
  double budget_;
  int64_t slow_max_;
  Problem check_;
  Tensor naive_;
  double peak_one_ = 0, peak_all_ = 0;
  std::map<int64_t, std::vector<Timed>> results_;
};

// A (rows, kc) slice of A into one kTileRows-tall k-major panel, and a (kc, cols)
// slice of B into one kTileCols-wide panel, zero-padded: what exercise 2 reads.
std::vector<float> panel_of_a(const Tensor& a) {
  const int64_t rows = a.size(0), kc = a.size(1);
  std::vector<float> panel(size_t(kc * lesson03::kTileRows), 0.0f);
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t i = 0; i < rows; ++i) panel[size_t(p * lesson03::kTileRows + i)] = a.at({i, p});
  return panel;
}
std::vector<float> panel_of_b(const Tensor& b) {
  const int64_t kc = b.size(0), cols = b.size(1);
  std::vector<float> panel(size_t(kc * lesson03::kTileCols), 0.0f);
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t j = 0; j < cols; ++j) panel[size_t(p * lesson03::kTileCols + j)] = b.at({p, j});
  return panel;
}

// ---------------------------------------------------------------- 9. softmax
//   softmax(x)_j = exp(x_j) / sum_i exp(x_i)      x: (n,)  ->  (n,)
// As written it breaks on ordinary inputs. A float holds up to ~3.4e38 = e^88.7,
// so exp(1000) is inf and [1000, 1000] gives inf / inf = NaN; exp(-1000) is 0, so
// [-1000, -1000] gives 0 / 0 = NaN. Logits that large are what a confident or
// badly scaled model produces.
void softmax_naive(const float* x, float* y, int64_t n) {
  float s = 0;
  for (int64_t j = 0; j < n; ++j) s += std::exp(x[j]);
  for (int64_t j = 0; j < n; ++j) y[j] = std::exp(x[j]) / s;
}

// The fix costs one pass. For any m, exp(x_j - m) / sum_i exp(x_i - m) is the same
// softmax (exp(-m) cancels). Take m = max_i x_i: every exponent is <= 0, so every
// exp is in (0, 1], and the sum is >= 1 (the max's own term is exp(0) = 1): no
// overflow, and no division by zero.
//   pass 1: m = max_j x_j      pass 2: e_j = exp(x_j - m), s = sum_j e_j      pass 3: y_j = e_j / s
// heed's softmax (tensor/kernels/softmax.cpp) is these three passes with a vector exp.
void softmax_stable(const float* x, float* y, int64_t n) {
  const float m = *std::max_element(x, x + n);
  float s = 0;
  for (int64_t j = 0; j < n; ++j) s += y[j] = std::exp(x[j] - m);
  for (int64_t j = 0; j < n; ++j) y[j] /= s;
}

std::string show(const std::vector<float>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    char number[32];
    if (std::isnan(v[i]))
      std::snprintf(number, sizeof number, "%sNaN", i ? ", " : "");
    else
      std::snprintf(number, sizeof number, "%s%.4g", i ? ", " : "", double(v[i]));
    out += number;
  }
  return out + "]";
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 3, .topic = "kernels", .title = "kernels"}, [](const course::Lesson& lesson) {
        const std::vector<int64_t> sizes =
            lesson.quick() ? std::vector<int64_t>{256} : std::vector<int64_t>{512, 1024};

        lesson.section(1, "the ceiling: this machine's FMA peak");
        Ladder ladder(lesson, sizes);
        std::printf(
            "Every rung below is held to this: single-thread rungs to the first figure, threaded ones to "
            "the\n"
            "second. Timings are the best of several runs; on a shared machine they still wobble.\n");

        lesson.section(2, "rung 1: the naive matmul (i-j-k)");
        if (!lesson.quick()) std::printf("(timed at n = 512 only: at n = 1024 a single run takes seconds)\n");
        ladder.climb(rung("naive i-j-k", "naive", matmul_naive, false, true));

        lesson.section(3, "rung 2: loop order i-k-j");
        ladder.climb(rung("loop order i-k-j", "i-k-j", matmul_ikj));

        lesson.section(4, "rung 3: cache blocking");
        ladder.climb(rung("cache blocking", "blocked", matmul_blocked));
        // Exercise 1 is this rung for any shape, with a third block loop and short
        // edge blocks: here blocks that divide none of the sizes.
        Generator gen(lesson.seed() + 1);
        {
          Tensor a = randn({65, 63}, gen), b = randn({63, 17}, gen);
          course::compare_exercise(
              lesson, 1, "cache-blocked matmul, (65, 63)·(63, 17) in blocks mc 16, kc 32, nc 8",
              [&] {
                Tensor c = empty({65, 17});
                lesson03::matmul_blocked(a.data(), b.data(), c.data(), 65, 63, 17,
                                         {.mc = 16, .kc = 32, .nc = 8});
                return c;
              },
              matmul(a, b), 1e-4);
        }

        lesson.section(5, "rung 4: packing, one row of C in registers");
        ladder.climb(rung("packing", "packed", matmul_packed));

        lesson.section(6, "rung 5: a register-tiled micro-kernel");
        std::printf("tile: %d x %d floats = %d x 2 vector registers of %s\n", MR, NR, MR, V::name);
        ladder.climb(rung("micro-kernel", "micro-kernel", matmul_micro));
        {  // Exercise 2: a 4 x 16 tile at an edge of C, 3 x 13 of it stored.
          Tensor a = randn({3, 65}, gen), b = randn({65, 13}, gen);
          const std::vector<float> pa = panel_of_a(a), pb = panel_of_b(b);
          course::compare_exercise(
              lesson, 2, "4 x 16 micro-kernel on an edge tile: (3, 65)·(65, 13)",
              [&] {
                Tensor c = zeros({3, 13});
                lesson03::micro_kernel_4x16(65, pa.data(), pb.data(), c.data(), 13, 3, 13);
                return c;
              },
              matmul(a, b), 1e-4);
        }
        {  // Exercise 3: all of it, on exercise 2's kernel, for any shape.
          Tensor a = randn({130, 300}, gen), b = randn({300, 70}, gen);
          const bool done = course::compare_exercise(
              lesson, 3, "packed matmul, (130, 300)·(300, 70)",
              [&] {
                Tensor c = empty({130, 70});
                lesson03::matmul_packed(a.data(), b.data(), c.data(), 130, 300, 70);
                return c;
              },
              matmul(a, b), 1e-4);
          if (done) {
            const int64_t n = ladder.largest();
            Problem p = make_problem(n, 7);
            const double seconds =
                best_seconds([&] { lesson03::matmul_packed(p.a.data(), p.b.data(), p.c.data(), n, n, n); },
                             lesson.pick(0.1, 1.0));
            const double gflops = 2.0 * double(n) * double(n) * double(n) / seconds * 1e-9;
            std::printf("      yours at n = %lld: %.1f GFLOP/s, %.1f%% of the %d-thread peak\n", (long long)n,
                        gflops, 100 * gflops / ladder.peak(ladder.threads()), ladder.threads());
          }
        }

        lesson.section(7, "rung 6: threads over blocks of C, never over k");
        ladder.climb(rung("OpenMP", "OpenMP", matmul_threads, true));
        {
          // The same product on 1, 2 and 3 threads, by rung 6 and by heed: the same bits.
          Problem p = make_problem(Ladder::kCheck, lesson.seed() + 2);
          std::vector<Tensor> ours, heeds;
          for (int t : {1, 2, 3}) {
            set_num_threads(t);
            matmul_threads(p.a.data(), p.b.data(), p.c.data(), p.n);
            ours.push_back(clone(p.c));
            heeds.push_back(matmul(p.a, p.b));
          }
          set_num_threads(ladder.threads());
          for (size_t t = 1; t < ours.size(); ++t) {
            HEED_CHECK(same_bits(ours[0], ours[t]), "lesson 03: rung 6 on ", t + 1,
                       " threads changed the bits");
            HEED_CHECK(same_bits(heeds[0], heeds[t]), "lesson 03: heed::matmul on ", t + 1,
                       " threads changed the bits");
          }
          std::printf(
              "n = %lld on 1, 2 and 3 threads: rung 6 gives the same bits each time, and so does "
              "heed::matmul\n",
              (long long)p.n);
          // What splitting k would do: each half of the sum on its own, then added.
          const int64_t n = p.n, h = n / 2;
          Tensor split = matmul(slice(p.a, 1, 0, h), slice(p.b, 0, 0, h)) +
                         matmul(slice(p.a, 1, h, n), slice(p.b, 0, h, n));
          int64_t differ = 0;
          for (int64_t i = 0; i < split.numel(); ++i) differ += split.data()[i] != heeds[0].data()[i];
          std::printf(
              "k split in two halves, summed apart and then added (as two threads over k would): %lld of "
              "%lld\n"
              "elements change in their last bits, max |difference| %.1e\n",
              (long long)differ, (long long)split.numel(), max_difference(split, heeds[0]));
        }

        // heed's sgemm (tensor/kernels/sgemm.cpp) is rungs 3 to 6 made general: any
        // shape (edge tiles run a kernel with fewer rows, or a full tile into scratch),
        // transposed operands read through strides while packing (so the backward
        // never builds a transpose), A packed too, blocks sized for L1, L2 and L3,
        // the B block packed by all threads together and shared, and a
        // matrix-vector path for a single row or column. Its micro-kernel is 6 x 2W.
        lesson.section(8, "rung 7: heed's sgemm, and the whole ladder");
        ladder.climb({"heed::matmul", "heed", [](Problem& p) { p.c = matmul(p.a, p.b); }});
        ladder.climb({"heed::matmul", "heed", [](Problem& p) { p.c = matmul(p.a, p.b); }, true});
        ladder.measure_peaks();
        for (int64_t n : sizes) ladder.print_table(n);
        std::printf(
            "\n'vs naive' is max |c - naive c| at n = %lld: every rung adds the terms of c_ij in the order\n"
            "k = 0, 1, ..., so differences are roundings (a fused multiply-add rounds once, a multiply then\n"
            "an add twice); heed's sgemm sums each K block apart and then adds it to C.\n",
            (long long)Ladder::kCheck);
        ladder.write_chart(lesson);

        lesson.section(9, "softmax: the overflow, and the max that prevents it");
        std::printf("  %-16s %-24s %-24s %s\n", "x", "naive", "stable", "heed::softmax");
        for (const std::vector<float>& x :
             std::vector<std::vector<float>>{{1000, 1000}, {-1000, -1000}, {1000, 0}, {1, 2, 3}}) {
          const auto n = int64_t(x.size());
          std::vector<float> naive(x.size()), stable(x.size());
          softmax_naive(x.data(), naive.data(), n);
          softmax_stable(x.data(), stable.data(), n);
          const Tensor heeds = softmax(from_vector(x, {n}), 0);
          std::printf("  %-16s %-24s %-24s %s\n", show(x).c_str(), show(naive).c_str(), show(stable).c_str(),
                      show(heeds.to_vector()).c_str());
          HEED_CHECK(max_difference(from_vector(stable, {n}), heeds) < 1e-6,
                     "lesson 03: the stable softmax of ", show(x), " is ", show(stable), ", heed's ",
                     show(heeds.to_vector()));
        }
        {
          std::vector<float> y(2);
          softmax_stable(std::vector<float>{1000, 1000}.data(), y.data(), 2);
          HEED_CHECK(y[0] == 0.5f && y[1] == 0.5f,
                     "lesson 03: softmax([1000, 1000]) should be [0.5, 0.5], not ", show(y));
        }
        // Exercise 4 folds pass 1 into pass 2: a running max m and a running sum s,
        // rescaled whenever the max grows (m_new = max(m, x_j), s = s exp(m - m_new)
        // + exp(x_j - m_new)), then y in a second pass. Lesson 13's fused attention
        // does this over blocks of scores it never stores.
        {
          Tensor x = randn({65}, gen) * 4.0f + 1000.0f;
          course::compare_exercise(
              lesson, 4, "online softmax of 65 logits near 1000",
              [&] {
                Tensor y = empty({65});
                lesson03::softmax_row_online(x.data(), y.data(), 65);
                return y;
              },
              softmax(x, 0), 1e-6);
        }
      });
}
