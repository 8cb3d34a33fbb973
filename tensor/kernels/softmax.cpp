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
// Why not the online normalizer (Milakov & Gimelshein 2018: one pass keeps a
// running max and rescales the running sum whenever the max grows)? It saves a
// walk over x, but computes every exp twice, once for the sum and again for y,
// and exp is what this kernel spends its time on. Measured with one thread on
// rows of 128K to 4M floats, too long to stay in cache between the passes: the
// online form (max per 2048-float block, so one exp per element in the first
// pass) ran at 0.72-0.93x the three passes for softmax and 0.91-1.07x for
// log-softmax. It pays where a row is never materialized at all, as in
// memory-efficient attention.
//
// Big outputs are written with streaming stores: a normal store first reads the
// line it writes (a third memory stream), a streaming store does not. Then e
// lives in a per-thread scratch row (in cache) instead of in y. Small outputs
// use normal stores so the op that reads y next finds it in cache, and so do
// outputs whose rows are not whole, aligned vectors: a line written partly by
// streaming and partly by normal stores is slow (measured with one thread on
// 64 MiB: rows of 10, 17, 50 and 100 floats ran 2-3x faster without streaming).
//
// Short rows (up to kShortRow floats) go kGroup at a time, each pass walking the
// group's rows in lockstep: the rows' running maxes and sums are independent
// chains that overlap, as do the per-row steps that only wait (a horizontal max,
// then sum, then 1/s or log s), and the exp pass sets its constants up once per
// group. The exp pass also prefetches the rows after the current ones, so their
// reads from memory overlap that compute-bound pass instead of stalling the max
// pass.
//
// Rows of at most 8 vectors (64 floats with AVX2: attention over up to 64 keys)
// skip the passes: a row is loaded into registers once and goes from x to y
// there, its max and sum taken as trees, a partial last vector loaded and stored
// lane-masked. Measured with one thread against the grouped passes: n = 64
// 1.25x, n = 16 2x, n = 10, 17, 63 1.3-1.7x, n = 50 1.0x.
//
// Threads take whole rows, and a row's arithmetic is the same whether it runs in
// a group or alone, on whichever thread, so the output is bitwise identical for
// any thread count.
#include "tensor/kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>

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
  template <class V>  // the first count lanes; the rest -inf (exp gives 0)
  V load_first(int64_t j, int count) const {
    return V::load_first(x + j, count, -kInf);
  }
  void prefetch(int64_t j) const { __builtin_prefetch(x + j); }
  Plain at(int64_t j) const { return {x + j}; }
};
struct Masked {
  static constexpr bool masked = true;
  const float* x;
  const float* mask;
  template <class V>
  V load(int64_t j) const {
    return hide(V::load(mask + j), V::load(x + j));
  }
  template <class V>  // the first count lanes; the rest hidden
  V load_first(int64_t j, int count) const {
    return hide(V::load_first(mask + j, count, 1.0f), V::load_first(x + j, count, 0.0f));
  }
  template <class V>  // -inf where k != 0
  static V hide(V k, V v) {
    V zero = V::zero(), hidden = V::broadcast(-kInf);
    return select_gt(k, zero, hidden, select_gt(zero, k, hidden, v));
  }
  void prefetch(int64_t j) const { __builtin_prefetch(x + j), __builtin_prefetch(mask + j); }
  Masked at(int64_t j) const { return {x + j, mask + j}; }
};

// Each pass runs over G consecutive rows (row g's element j is src's element
// g n + j) in lockstep: step j of every row, then step j + 1. The rows'
// dependency chains, a running max or sum each, then interleave and their
// latencies overlap. A pass covers [j, n) as far as whole vectors of V go and
// returns where it stopped.

// Two maxes per row, so that even one long row has two chains (max is exact, so
// the order cannot change the result).
template <class V, int G, class Src>
int64_t max_pass(const Src& src, int64_t j, int64_t n, float* m) {
  constexpr int W = V::width;
  V a[G], b[G];
  for (int g = 0; g < G; ++g) a[g] = b[g] = V::broadcast(m[g]);
  for (; j + 2 * W <= n; j += 2 * W)
    for (int g = 0; g < G; ++g) {
      a[g] = max(a[g], src.template load<V>(g * n + j));
      b[g] = max(b[g], src.template load<V>(g * n + j + W));
    }
  for (; j + W <= n; j += W)
    for (int g = 0; g < G; ++g) a[g] = max(a[g], src.template load<V>(g * n + j));
  for (int g = 0; g < G; ++g) m[g] = hmax(max(a[g], b[g]));
  return j;
}

// s[g] += sum_j exp(x_gj - m[g]), storing each term to e[g n + j] when kKeep.
// It also prefetches the input `ahead` floats on: the max pass is the one that
// waits for memory, so later rows are requested while this (compute-bound) pass
// runs. exp_softmax (not exp_nonpositive): x - m <= 0, and it is about a third
// cheaper.
template <class V, int G, bool kKeep, class Src>
int64_t exp_pass(const Src& src, float* e, int64_t j, int64_t n, const float* m, float* s, int64_t ahead) {
  constexpr int W = V::width;
  V vm[G], a[G];
  for (int g = 0; g < G; ++g) vm[g] = V::broadcast(m[g]), a[g] = V::zero();
  for (; j + W <= n; j += W) {
    if (j % 16 == 0)  // once per 64-byte line
      for (int g = 0; g < G; ++g) src.prefetch(g * n + j + ahead);
    for (int g = 0; g < G; ++g) {
      V t = simd::exp_softmax(src.template load<V>(g * n + j) - vm[g]);
      if constexpr (kKeep) t.store(e + g * n + j);
      a[g] = a[g] + t;
    }
  }
  for (int g = 0; g < G; ++g) s[g] += hsum(a[g]);
  return j;
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

// The three passes over G consecutive rows, x (through src) -> y, with e a
// scratch of G rows in cache for softmax's terms (log-softmax recomputes from x
// and keeps none).
template <class V, bool kStream, bool kLog, int G, class Src>
void rows_step(const Src& src, float* y, float* e, int64_t n, int64_t ahead) {
  float m[G], s[G];
  for (int g = 0; g < G; ++g) m[g] = -kInf, s[g] = 0.0f;
  max_pass<VecScalar, G>(src, max_pass<V, G>(src, 0, n, m), n, m);
  // A fully hidden row (m = -inf) gets a NaN sum here; it is zeroed below.
  exp_pass<VecScalar, G, !kLog>(src, e, exp_pass<V, G, !kLog>(src, e, 0, n, m, s, ahead), n, m, s, 0);
  for (int g = 0; g < G; ++g) {
    float* yg = y + g * n;
    if (Src::masked && m[g] == -kInf) {  // nothing visible: attend to nothing
      std::fill_n(yg, n, 0.0f);
      continue;
    }
    const float* in = kLog ? src.x + g * n : e + g * n;
    float c0 = kLog ? m[g] : 1.0f / s[g], c1 = kLog ? std::log(s[g]) : 0.0f;
    write_pass<VecScalar, kStream, kLog>(in, yg, write_pass<V, kStream, kLog>(in, yg, 0, n, c0, c1), n, c0,
                                         c1);
  }
}

// Rows of at most kRegisterRow vectors are held in registers from load to
// store: no scratch to write and read back, no second and third walk over the
// row with its loop set-up, and max and sum as trees (depth log2 R, not R).
// (Measured no better: two rows in lockstep, finding the next row's max ahead,
// and rows of 16 or 32 vectors, which spill and lose ~10% to the grouped passes.)
constexpr int kRegisterRow = 8;

// op(v[Lo], ..., v[Hi - 1]) as a balanced tree (recursion, so that it unrolls
// completely and v stays in registers).
template <int Lo, int Hi, class V, class Op>
V tree(const V* v, Op op) {
  if constexpr (Hi - Lo == 1)
    return v[Lo];
  else
    return op(tree<Lo, (Lo + Hi) / 2>(v, op), tree<(Lo + Hi) / 2, Hi>(v, op));
}

// One row, x (through src): (n,)  ->  y: (n,) with n in ((R - 1) W, R W], never
// leaving registers between the load and the store. A last, partial vector is
// padded with -inf (exp gives 0: it changes neither max nor sum) and only its
// first n - (R - 1) W lanes are stored.
template <class V, int R, bool kStream, bool kLog, class Src>
void register_row(const Src& src, float* y, int64_t n) {
  constexpr int W = V::width;
  const int tail = int(n - (R - 1) * W);  // lanes of the last vector, 1..W
  V x[R], e[R];
  for (int i = 0; i < R - 1; ++i) x[i] = src.template load<V>(i * W);
  x[R - 1] = tail == W ? src.template load<V>((R - 1) * W) : src.template load_first<V>((R - 1) * W, tail);
  float m = hmax(tree<0, R>(x, [](V a, V b) { return max(a, b); }));
  if (Src::masked && m == -kInf) {  // nothing visible: attend to nothing
    std::fill_n(y, n, 0.0f);
    return;
  }
  V vm = V::broadcast(m);
  for (int i = 0; i < R; ++i) e[i] = simd::exp_softmax(x[i] - vm);
  float s = hsum(tree<0, R>(e, std::plus<>()));
  V c = V::broadcast(kLog ? std::log(s) : 1.0f / s);
  for (int i = 0; i < R; ++i) {
    V out = kLog ? (x[i] - vm) - c : e[i] * c;
    if (i == R - 1 && tail < W) {
      out.store_first(y + i * W, tail);
    } else if constexpr (kStream) {
      out.stream(y + i * W);
    } else {
      out.store(y + i * W);
    }
  }
}

// Rows [begin, end) of x: (rows, n)  ->  y: (rows, n), with n in ((R - 1) W, R W]:
// the runtime n picks the compile-time R.
template <class V, bool kStream, bool kLog, class Src, int R = 1>
void register_rows(const Src& src, float* y, int64_t begin, int64_t end, int64_t n, int64_t ahead) {
  if constexpr (R < kRegisterRow)
    if (n > R * V::width) return register_rows<V, kStream, kLog, Src, R + 1>(src, y, begin, end, n, ahead);
  for (int64_t r = begin; r < end; ++r) {
    Src row = src.at(r * n);
    for (int64_t j = 0; j < n; j += 16) row.prefetch(j + ahead);  // a line at a time
    register_row<V, R, kStream, kLog>(row, y + r * n, n);
  }
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

// Rows of at most kShortRow floats (1 KiB) go kGroup at a time: for them the
// per-row steps that only wait (a horizontal max, then sum, then 1/s or log s)
// would otherwise dominate (measured at n = 64, one thread: 7.8 GB/s one row at
// a time, 9.4 four in lockstep, 8.0 four one after another within each pass).
// Longer rows go one at a time, so each stays in L1.
constexpr int64_t kShortRow = 256;
constexpr int kGroup = 4;

// Rows [begin, end), kGroup at a time if short; e goes to scratch when y is
// streamed (it must not be read back from memory) and straight to y otherwise.
template <class V, bool kStream, bool kLog, class Src>
void grouped_rows(const Src& src, float* y, int64_t begin, int64_t end, int64_t n, int64_t ahead) {
  int64_t group = n <= kShortRow ? kGroup : 1;
  ScratchRow scratch(kStream && !kLog ? group * n : 0);
  auto step = [&](int64_t r, auto count) {  // rows [r, r + count)
    float* yr = y + r * n;
    rows_step<V, kStream, kLog, decltype(count)::value>(src.at(r * n), yr,
                                                        kStream && !kLog ? scratch.data : yr, n, ahead);
  };
  int64_t r = begin;
  for (; group == kGroup && r + kGroup <= end; r += kGroup) step(r, std::integral_constant<int, kGroup>{});
  for (; r < end; ++r) step(r, std::integral_constant<int, 1>{});
}

// x: (rows, n) through src  ->  y: (rows, n)
template <class V, bool kStream, bool kLog, class Src>
void rows_kernel(Src src, float* y, int64_t rows, int64_t n) {
  // At least ~64 KiB of input per chunk, so a thread's start-up is paid for.
  int64_t grain = std::max<int64_t>(1, (int64_t{16} << 10) / n);
  // Prefetch distance: the next row, and at least 4 KiB ahead for short rows.
  int64_t ahead = std::max<int64_t>(n, 1024);
  bool in_registers = n <= kRegisterRow * V::width;
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    if (in_registers)
      register_rows<V, kStream, kLog>(src, y, begin, end, n, ahead);
    else
      grouped_rows<V, kStream, kLog>(src, y, begin, end, n, ahead);
    // Streaming stores are weakly ordered: make them visible before the chunk
    // is reported done.
    if constexpr (kStream) simd::store_fence();
  });
}

template <class V, bool kLog, class Src>
void rows_dispatch(Src src, float* y, int64_t rows, int64_t n) {
  if (rows <= 0 || n <= 0) return;
  // Streaming only when every store is a whole, aligned vector (see the top).
  bool aligned = n % V::width == 0 && reinterpret_cast<uintptr_t>(y) % sizeof(V) == 0;
  if (aligned && rows * n * int64_t(sizeof(float)) >= kStreamBytes)
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
