// Softmax kernels (see softmax.h for the math).
//
// One fused kernel per row, in three passes. A row of a few thousand floats
// stays in L1/L2 between the passes, so memory sees one read of x and one
// write of y:
//   1. m = max_j x_j                          reads x from memory into cache
//   2. e_j = exp(x_j - m),  s = sum_j e_j      e is kept (softmax) or not (log)
//   3. y_j = e_j * (1/s)   or   y_j = (x_j - m) - log s
// Every pass runs the vector type V while a whole vector fits and finishes the
// row with VecScalar, so one template is both the body and the tail.
//
// Big outputs are written with streaming stores: a normal store first reads the
// line it writes (a third memory stream), a streaming store does not. Then e
// lives in a per-thread scratch row (in cache) instead of in y. Small outputs
// use normal stores so the op that reads y next finds it in cache.
//
// Short rows (up to kShortRow floats) go kGroup at a time, pass by pass: the
// per-row steps that only wait (a horizontal max, then sum, then 1/s or log s)
// of different rows overlap, and the exp pass sets its constants up once per
// group. The exp pass also prefetches the rows after the current ones, so their
// reads from memory overlap that compute-bound pass instead of stalling the max
// pass.
//
// Threads take whole rows, and a row's result does not depend on which thread
// computes it, so the output is bitwise identical for any thread count.
#include "tensor/kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/pool.h"
#include "tensor/kernels/simd.h"
#include "tensor/kernels/vmath.h"

namespace heed::kernels {
namespace {

using simd::VecScalar;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Outputs of at least this many bytes bypass the cache (about a quarter to a
// half of a typical last-level cache: bigger outputs would not survive in it).
constexpr int64_t kStreamBytes = int64_t{8} << 20;

// Where the passes read logits from: one row of x, or of x with the hidden
// entries replaced by -inf (mask != 0 hides; exp(-inf - m) = 0 drops them).
struct Plain {
  static constexpr bool masked = false;
  const float* x;
  template <class V>
  V load(int64_t j) const {
    return V::load(x + j);
  }
  void prefetch(int64_t j) const { __builtin_prefetch(x + j); }
};
struct Masked {
  static constexpr bool masked = true;
  const float* x;
  const float* mask;
  template <class V>
  V load(int64_t j) const {
    V k = V::load(mask + j), zero = V::zero(), hidden = V::broadcast(-kInf);
    return select_gt(k, zero, hidden, select_gt(zero, k, hidden, V::load(x + j)));
  }
  void prefetch(int64_t j) const { __builtin_prefetch(x + j), __builtin_prefetch(mask + j); }
};

// Each pass covers [j, n) as far as whole vectors of V go and returns where it
// stopped; two accumulators hide the latency of max and add.

template <class V, class Src>
int64_t max_pass(const Src& src, int64_t j, int64_t n, float& m) {
  constexpr int W = V::width;
  V a = V::broadcast(m), b = a;
  for (; j + 2 * W <= n; j += 2 * W) {
    a = max(a, src.template load<V>(j));
    b = max(b, src.template load<V>(j + W));
  }
  for (; j + W <= n; j += W) a = max(a, src.template load<V>(j));
  m = hmax(max(a, b));
  return j;
}

// s += sum_j exp(x_j - m), storing each term to e[j] when e is given. It also
// prefetches the input `ahead` floats on: the max pass is the one that waits for
// memory, so the next rows are requested while this (compute-bound) pass runs.
// exp_softmax (not exp_nonpositive): x - m <= 0, and it is about a third cheaper.
// Always inlined into exp_rows, which then sets the constants up once per group
// (inlining it into the whole row loop instead made GCC spill registers).
template <class V, class Src>
[[gnu::always_inline]] inline int64_t exp_pass(const Src& src, float* e, int64_t j, int64_t n, float m,
                                               float& s, int64_t ahead) {
  constexpr int W = V::width;
  V vm = V::broadcast(m), a = V::zero(), b = a;
  for (; j + 2 * W <= n; j += 2 * W) {
    // One prefetch per 64-byte line (16 floats); narrow vectors repeat one, harmlessly.
    for (int k = 0; k < 2 * W; k += 16) src.prefetch(j + k + ahead);
    V e0 = simd::exp_softmax(src.template load<V>(j) - vm);
    V e1 = simd::exp_softmax(src.template load<V>(j + W) - vm);
    if (e) {
      e0.store(e + j);
      e1.store(e + j + W);
    }
    a = a + e0;
    b = b + e1;
  }
  for (; j + W <= n; j += W) {
    V e0 = simd::exp_softmax(src.template load<V>(j) - vm);
    if (e) e0.store(e + j);
    a = a + e0;
  }
  s += hsum(a + b);
  return j;
}

// The exp pass over the g rows of a group: s[k] = sum_j exp(x_kj - m[k]).
template <class V, class Src>
void exp_rows(const Src* row, float* const* e, int g, int64_t n, const float* m, float* s, int64_t ahead) {
  for (int k = 0; k < g; ++k) {
    float sum = 0.0f;
    int64_t j = exp_pass<V>(row[k], e[k], 0, n, m[k], sum, ahead);
    exp_pass<VecScalar>(row[k], e[k], j, n, m[k], sum, 0);
    s[k] = sum;
  }
}

// y_j = e_j * c0  (softmax: c0 = 1/s)  or  y_j = (x_j - c0) - c1  (log-softmax:
// c0 = m, c1 = log s; x_j - m first, which is exact near the max, even for huge logits).
template <class V, bool kStream, bool kLog>
int64_t write_pass(const float* in, float* y, int64_t j, int64_t n, float c0, float c1) {
  constexpr int W = V::width;
  V v0 = V::broadcast(c0), v1 = V::broadcast(c1);
  for (; j + W <= n; j += W) {
    V out = kLog ? (V::load(in + j) - v0) - v1 : V::load(in + j) * v0;
    if constexpr (kStream)
      out.stream(y + j);
    else
      out.store(y + j);
  }
  return j;
}

// A scratch row from the pool, held for one parallel chunk.
struct ScratchRow {
  int64_t n;
  float* data;
  explicit ScratchRow(int64_t count) : n(count), data(count ? pool_acquire(size_t(count)) : nullptr) {}
  ~ScratchRow() {
    if (data) pool_release(data, size_t(n));
  }
  ScratchRow(const ScratchRow&) = delete;
  ScratchRow& operator=(const ScratchRow&) = delete;
};

// Rows of at most kShortRow floats (1 KiB) are done kGroup at a time.
constexpr int64_t kShortRow = 256;
constexpr int kGroup = 4;

// x: (rows, n) through src  ->  y: (rows, n)
template <class V, bool kStream, bool kLog, class Src>
void rows_kernel(Src src, float* y_all, int64_t rows, int64_t n) {
  // At least ~64 KiB of input per chunk, so a thread's start-up is paid for.
  int64_t grain = std::max<int64_t>(1, (int64_t{16} << 10) / n);
  // Prefetch distance: the next row, and at least 4 KiB ahead for short rows.
  int64_t ahead = std::max<int64_t>(n, 1024);
  int64_t group = n <= kShortRow ? kGroup : 1;
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    ScratchRow scratch(kStream && !kLog ? group * n : 0);
    for (int64_t r0 = begin; r0 < end; r0 += group) {
      int g = int(std::min(group, end - r0));
      Src row[kGroup];
      float m[kGroup], s[kGroup];
      float* e[kGroup];
      for (int k = 0; k < g; ++k) {
        row[k] = src;
        row[k].x += (r0 + k) * n;
        if constexpr (Src::masked) row[k].mask += (r0 + k) * n;
        m[k] = -kInf;
        max_pass<VecScalar>(row[k], max_pass<V>(row[k], 0, n, m[k]), n, m[k]);
        e[k] = kLog ? nullptr : kStream ? scratch.data + k * n : y_all + (r0 + k) * n;
      }
      // A fully hidden row (m = -inf) gets NaN sums here; it is zeroed below.
      exp_rows<V>(row, e, g, n, m, s, ahead);
      for (int k = 0; k < g; ++k) {
        float* y = y_all + (r0 + k) * n;
        if (Src::masked && m[k] == -kInf) {  // nothing visible: attend to nothing
          for (int64_t j = 0; j < n; ++j) y[j] = 0.0f;
          continue;
        }
        const float* in = kLog ? row[k].x : e[k];
        float c0 = kLog ? m[k] : 1.0f / s[k], c1 = kLog ? std::log(s[k]) : 0.0f;
        int64_t j = write_pass<V, kStream, kLog>(in, y, 0, n, c0, c1);
        write_pass<VecScalar, kStream, kLog>(in, y, j, n, c0, c1);
      }
    }
    // Streaming stores are weakly ordered: make them visible before the chunk
    // is reported done.
    if constexpr (kStream) simd::store_fence();
  });
}

template <class V, bool kLog, class Src>
void rows_dispatch(Src src, float* y, int64_t rows, int64_t n) {
  if (rows <= 0 || n <= 0) return;
  if (rows * n * int64_t(sizeof(float)) >= kStreamBytes)
    rows_kernel<V, true, kLog>(src, y, rows, n);
  else
    rows_kernel<V, false, kLog>(src, y, rows, n);
}

}  // namespace

void softmax_rows(const float* x, float* y, int64_t rows, int64_t n) {
  rows_dispatch<simd::Vec, false>(Plain{x}, y, rows, n);
}
void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t n) {
  rows_dispatch<simd::Vec, true>(Plain{x}, y, rows, n);
}
void masked_softmax_rows(const float* x, const float* mask, float* y, int64_t rows, int64_t n) {
  rows_dispatch<simd::Vec, false>(Masked{x, mask}, y, rows, n);
}

void softmax_rows_scalar(const float* x, float* y, int64_t rows, int64_t n) {
  rows_dispatch<VecScalar, false>(Plain{x}, y, rows, n);
}
void log_softmax_rows_scalar(const float* x, float* y, int64_t rows, int64_t n) {
  rows_dispatch<VecScalar, true>(Plain{x}, y, rows, n);
}
void masked_softmax_rows_scalar(const float* x, const float* mask, float* y, int64_t rows, int64_t n) {
  rows_dispatch<VecScalar, false>(Masked{x, mask}, y, rows, n);
}

// ---------------------------------------------------------------- naive twins
// Plain loops, float arithmetic, std::exp / std::log, summing left to right.

void softmax_rows_naive(const float* x, float* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    float m = -kInf;
    for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
    float s = 0.0f;
    for (int64_t j = 0; j < n; ++j) s += y[j] = std::exp(x[j] - m);
    for (int64_t j = 0; j < n; ++j) y[j] /= s;
  }
}

void log_softmax_rows_naive(const float* x, float* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r, x += n, y += n) {
    float m = -kInf;
    for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
    float s = 0.0f;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
    float log_s = std::log(s);
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - m - log_s;
  }
}

void masked_softmax_rows_naive(const float* x, const float* mask, float* y, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r, x += n, mask += n, y += n) {
    float m = -kInf;
    for (int64_t j = 0; j < n; ++j)
      if (mask[j] == 0.0f) m = std::max(m, x[j]);
    float s = 0.0f;
    for (int64_t j = 0; j < n; ++j) s += y[j] = mask[j] == 0.0f ? std::exp(x[j] - m) : 0.0f;
    for (int64_t j = 0; j < n; ++j) y[j] = m == -kInf ? 0.0f : y[j] / s;
  }
}

}  // namespace heed::kernels
