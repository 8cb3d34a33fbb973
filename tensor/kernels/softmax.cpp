// Softmax kernels (see softmax.h for the math).
//
// Three passes per row; rows go a block of ~4 KiB at a time, and each pass runs
// over every row of the block before the next one starts (see block_rows):
//   1. m = max_j x_j                          reads x from memory into cache
//   2. e_j = exp(x_j - m),  s = sum_j e_j      e is kept (softmax) or not (log)
//   3. y_j = e_j * (1/s)   or   y_j = (x_j - m) - log s
// The block stays in L1 between the passes, so memory sees one read of x and
// one write of y. A row's last partial vector is loaded and stored lane-masked;
// rows of up to 8 vectors (64 floats with AVX2) are passed over fully unrolled
// (ShortRow), longer ones in loops (AnyRow).
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
// lives in a per-thread scratch (in cache) instead of in y. Small outputs use
// normal stores so the op that reads y next finds it in cache, and so do
// outputs whose rows are not whole, aligned vectors: a line written partly by
// streaming and partly by normal stores is slow (measured with one thread on
// 64 MiB: rows of 10, 17, 50 and 100 floats ran 2-3x faster without streaming).
//
// Threads take whole rows, and a row's arithmetic is the same in whatever block
// and on whichever thread it runs, so the output is bitwise identical for any
// thread count.
#include "tensor/kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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

// ---- The three passes over one row of any length: loops over vectors of V, a
// last partial vector loaded and stored lane-masked.

// max_j x_j, in four chains: a max waits for the one before it in its chain
// (measured in cache: ~0.09 cycles per float with four chains, ~0.13 with two).
template <class V, class Src>
float row_max(const Src& x, int64_t n) {
  constexpr int W = V::width;
  V a[4] = {V::broadcast(-kInf), V::broadcast(-kInf), V::broadcast(-kInf), V::broadcast(-kInf)};
  int64_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W)
    for (int i = 0; i < 4; ++i) a[i] = max(a[i], x.template load<V>(j + i * W));
  for (int i = 0; j + W <= n; j += W, ++i) a[i] = max(a[i], x.template load<V>(j));
  if (j < n) a[3] = max(a[3], x.template load_first<V>(j, int(n - j)));
  return hmax(max(max(a[0], a[1]), max(a[2], a[3])));
}

// sum_j exp(x_j - m), each term also stored to e[j] when kKeep. The row `next`
// is prefetched a line at a time as this (compute-bound) pass runs, so that its
// max pass finds it in cache. exp_softmax, not exp_nonpositive: x - m <= 0, and
// it is about a third cheaper.
template <class V, bool kKeep, class Src>
float row_exp_sum(const Src& x, float* e, int64_t n, float m, const Src& next) {
  constexpr int W = V::width;
  V vm = V::broadcast(m), s = V::zero();
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    if (j % 16 == 0) next.prefetch(j);
    V t = simd::exp_softmax(x.template load<V>(j) - vm);
    if constexpr (kKeep) t.store(e + j);
    s = s + t;
  }
  if (j < n) {  // the lanes past n load as -inf (hidden): exp gives 0
    if (j % 16 == 0) next.prefetch(j);
    V t = simd::exp_softmax(x.template load_first<V>(j, int(n - j)) - vm);
    if constexpr (kKeep) t.store_first(e + j, int(n - j));
    s = s + t;
  }
  return hsum(s);
}

// y_j = in_j * c0  (softmax: in = e, c0 = 1/s)  or  y_j = (in_j - c0) - c1
// (log-softmax: in = x, c0 = m, c1 = log s; x_j - m first, which is exact near
// the max, even for huge logits).
template <class V, bool kLog>
V finish(V in, V c0, V c1) {
  return kLog ? (in - c0) - c1 : in * c0;
}

template <class V, bool kStream, bool kLog>
void row_write(const float* in, float* y, int64_t n, float c0, float c1) {
  constexpr int W = V::width;
  V v0 = V::broadcast(c0), v1 = V::broadcast(c1);
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V out = finish<V, kLog>(V::load(in + j), v0, v1);
    if constexpr (kStream)
      out.stream(y + j);
    else
      out.store(y + j);
  }
  if (j < n) finish<V, kLog>(V::load_first(in + j, int(n - j), 0.0f), v0, v1).store_first(y + j, int(n - j));
}

// Any row: the passes above; softmax's terms go to e, which is y itself unless y
// is streamed (then a scratch in cache: y must not be read back from memory).
template <class V, bool Stream, bool Log>
struct AnyRow {
  using Vec = V;
  static constexpr bool kLog = Log, kScratch = Stream && !Log;
  static int64_t stride(int64_t n) { return n; }  // floats of scratch per row
  template <class Src>
  static float max_of(const Src& x, int64_t n) {
    return row_max<V>(x, n);
  }
  template <class Src>
  static float exp_sum(const Src& x, float* e, int64_t n, float m, const Src& next) {
    return row_exp_sum<V, !Log>(x, e, n, m, next);
  }
  static void write(const float* in, float* y, int64_t n, float c0, float c1) {
    row_write<V, Stream, Log>(in, y, n, c0, c1);
  }
};

// op(v[Lo], ..., v[Hi - 1]) as a balanced tree (recursion, so that it unrolls
// completely and v stays in registers).
template <int Lo, int Hi, class V, class Op>
V tree(const V* v, Op op) {
  if constexpr (Hi - Lo == 1)
    return v[Lo];
  else
    return op(tree<Lo, (Lo + Hi) / 2>(v, op), tree<(Lo + Hi) / 2, Hi>(v, op));
}

// A short row, n in ((R - 1) W, R W]: each pass loads the row into R registers
// and works on it unrolled, with max and sum as trees (depth log2 R, not R). Its
// terms e always go to a scratch row of R whole vectors, so that only the store
// of y is lane-masked.
template <class V, int R, bool Stream, bool Log>
struct ShortRow {
  using Vec = V;
  static constexpr int W = V::width;
  static constexpr bool kLog = Log, kScratch = !Log;
  static int64_t stride(int64_t) { return R * W; }
  template <class Src>  // the lanes past n load as -inf (hidden)
  static void load(const Src& x, int64_t n, V* v) {
    for (int i = 0; i < R - 1; ++i) v[i] = x.template load<V>(i * W);
    const int tail = int(n - (R - 1) * W);
    v[R - 1] = tail == W ? x.template load<V>((R - 1) * W) : x.template load_first<V>((R - 1) * W, tail);
  }
  template <class Src>
  static float max_of(const Src& x, int64_t n) {
    V v[R];
    load(x, n, v);
    return hmax(tree<0, R>(v, [](V a, V b) { return max(a, b); }));
  }
  template <class Src>
  static float exp_sum(const Src& x, float* e, int64_t n, float m, const Src& next) {
    for (int64_t j = 0; j < n; j += 16) next.prefetch(j);
    V v[R], vm = V::broadcast(m);
    load(x, n, v);
    for (int i = 0; i < R; ++i) v[i] = simd::exp_softmax(v[i] - vm);
    if constexpr (!Log)
      for (int i = 0; i < R; ++i) v[i].store(e + i * W);
    return hsum(tree<0, R>(v, std::plus<>()));
  }
  static void write(const float* in, float* y, int64_t n, float c0, float c1) {
    V v0 = V::broadcast(c0), v1 = V::broadcast(c1);
    const int tail = int(n - (R - 1) * W);
    for (int i = 0; i < R; ++i) {
      const bool partial = i == R - 1 && tail < W;
      // in is x (log-softmax) or a scratch row of R whole vectors (softmax)
      V out = finish<V, Log>(Log && partial ? V::load_first(in + i * W, tail, 0.0f) : V::load(in + i * W), v0,
                             v1);
      if (partial) {
        out.store_first(y + i * W, tail);
      } else if constexpr (Stream) {
        out.stream(y + i * W);
      } else {
        out.store(y + i * W);
      }
    }
  }
};

// s[0, count) = log s[0, count), a vector of rows at a time. For short rows a
// std::log call per row is a large part of log-softmax's work; for longer ones
// the vector log's latency (a dependent chain of ~20 operations that every row's
// pass 3 waits for) costs more than it saves. Measured with one thread, AVX-512
// against std::log per row, time in cache: n = 10 0.67x, 16 0.71x, 32 0.89x,
// 64 0.86x, 128 0.98x, 256 1.07x, 512 1.10x; on a 64 MiB matrix: n = 10 1.41x
// the GB/s, 16 1.15x, 32 1.14x, 64 1.00x, 96 0.81-0.93x, 128 0.83-0.91x. So
// blocks of at least kVectorLogRows rows (n <= 64) take this path.
constexpr int64_t kVectorLogRows = 16;

template <class V>
void log_sums(float* s, int64_t count) {
  int64_t b = 0;
  for (; b + V::width <= count; b += V::width) simd::log_positive(V::load(s + b)).store(s + b);
  if (b < count)
    simd::log_positive(V::load_first(s + b, int(count - b), 1.0f)).store_first(s + b, int(count - b));
}

// A scratch from the pool, held for one parallel chunk.
struct Scratch {
  int64_t n;
  float* data;
  explicit Scratch(int64_t count) : n(count), data(count ? pool_acquire(size_t(count)) : nullptr) {}
  ~Scratch() {
    if (data) pool_release(data, size_t(n));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// Rows go a block of about kBlockFloats (4 KiB) at a time, and each pass runs
// over every row of the block before the next pass starts:
//   1. m_b = max x_b                      for every row b of the block
//   2. s_b = sum exp(x_b - m_b), e_b kept  (the block is still in L1)
//   3. y_b = e_b / s_b
// m_b and s_b go through memory, so within a pass the rows do not wait for one
// another: the core overlaps one row's exp chain with the next row's, instead of
// running each row's max -> exp -> sum -> 1/s -> store as one long chain, as a
// row held in registers from load to store does. Measured with one thread on a
// 64 MiB matrix, against that row-at-a-time form: n = 64 1.50x, 50 1.31x, 10
// 1.34x, 16 1.10x; rows of 128 to 4096 floats, which already went in passes (4
// short rows in lockstep, or one long row), 0.94-1.06x. Blocks of 2 and 8 KiB
// ran no faster, of 16 KiB slower (0.85x at n = 512 and 4096). Rows of 1024
// floats or more are blocks of one.
constexpr int64_t kBlockFloats = 1024;
constexpr int64_t kBlockRows = 256;  // at most, for rows of fewer than 4 floats

template <class Row, class Src>
void block_rows(const Src& src, float* y, int64_t begin, int64_t end, int64_t n) {
  const int64_t block = std::clamp<int64_t>(kBlockFloats / Row::stride(n), 1, kBlockRows),
                ld = Row::stride(n);
  Scratch scratch(Row::kScratch ? block * ld : 0);
  // Set by n alone (block, not count), so a row's bits do not depend on where a
  // thread's chunk ends.
  const bool vector_log = Row::kLog && block >= kVectorLogRows;
  float m[kBlockRows], s[kBlockRows];
  for (int64_t r0 = begin; r0 < end; r0 += block) {
    const int64_t count = std::min(block, end - r0);
    auto x = [&](int64_t b) { return src.at((r0 + b) * n); };
    auto e = [&](int64_t b) { return Row::kScratch ? scratch.data + b * ld : y + (r0 + b) * n; };
    for (int64_t b = 0; b < count; ++b) m[b] = Row::max_of(x(b), n);
    // A fully hidden row (m = -inf) gets a NaN sum here; it is zeroed below.
    for (int64_t b = 0; b < count; ++b) s[b] = Row::exp_sum(x(b), e(b), n, m[b], x(b + block));
    if (vector_log) log_sums<typename Row::Vec>(s, count);
    for (int64_t b = 0; b < count; ++b) {
      float* yb = y + (r0 + b) * n;
      if (Src::masked && m[b] == -kInf)  // nothing visible: attend to nothing
        std::fill_n(yb, n, 0.0f);
      else if (Row::kLog)
        Row::write(src.x + (r0 + b) * n, yb, n, m[b], vector_log ? s[b] : std::log(s[b]));
      else
        Row::write(e(b), yb, n, 1.0f / s[b], 0.0f);
    }
  }
}

// Rows of at most kShortRow<V> vectors of V go as ShortRow<R>: the runtime n
// picks the compile-time R. AVX2's 16 registers hold 8 (64 floats: attention
// over up to 64 keys); AVX-512's 32 hold 16 (256 floats: attention's kernel at
// (256, 256) rows ran 7% faster than with 8).
template <class V>
constexpr int kShortRow = V::width == 16 ? 16 : 8;

template <class V, bool kStream, bool kLog, class Src, int R = 1>
void short_rows(const Src& src, float* y, int64_t begin, int64_t end, int64_t n) {
  if constexpr (R < kShortRow<V>)
    if (n > R * V::width) return short_rows<V, kStream, kLog, Src, R + 1>(src, y, begin, end, n);
  block_rows<ShortRow<V, R, kStream, kLog>>(src, y, begin, end, n);
}

// x: (rows, n) through src  ->  y: (rows, n)
template <class V, bool kStream, bool kLog, class Src>
void rows_kernel(Src src, float* y, int64_t rows, int64_t n) {
  // At least ~64 KiB of input per chunk, so a thread's start-up is paid for.
  int64_t grain = std::max<int64_t>(1, (int64_t{16} << 10) / n);
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    if (n <= kShortRow<V> * V::width)
      short_rows<V, kStream, kLog>(src, y, begin, end, n);
    else
      block_rows<AnyRow<V, kStream, kLog>>(src, y, begin, end, n);
    // Streaming stores are weakly ordered: make them visible before the chunk
    // is reported done.
    if constexpr (kStream) simd::store_fence();
  });
}

// Passes 1 and 2 of block_rows for log-softmax rows, keeping m and log s
// instead of writing y: the same Row, block and log, so the same bits.
template <class Row>
void block_stats(const Plain& src, float* m_out, float* l_out, int64_t begin, int64_t end, int64_t n) {
  const int64_t block = std::clamp<int64_t>(kBlockFloats / Row::stride(n), 1, kBlockRows);
  const bool vector_log = block >= kVectorLogRows;
  float s[kBlockRows];
  for (int64_t r0 = begin; r0 < end; r0 += block) {
    const int64_t count = std::min(block, end - r0);
    auto x = [&](int64_t b) { return src.at((r0 + b) * n); };
    float* m = m_out + r0;
    for (int64_t b = 0; b < count; ++b) m[b] = Row::max_of(x(b), n);
    for (int64_t b = 0; b < count; ++b) s[b] = Row::exp_sum(x(b), nullptr, n, m[b], x(b + block));
    if (vector_log) log_sums<typename Row::Vec>(s, count);
    for (int64_t b = 0; b < count; ++b) l_out[r0 + b] = vector_log ? s[b] : std::log(s[b]);
  }
}

template <class V, int R = 1>
void short_stats(const Plain& src, float* m, float* l, int64_t begin, int64_t end, int64_t n) {
  if constexpr (R < kShortRow<V>)
    if (n > R * V::width) return short_stats<V, R + 1>(src, m, l, begin, end, n);
  block_stats<ShortRow<V, R, false, true>>(src, m, l, begin, end, n);
}

template <class V>
void stats_kernel(const float* x, float* m, float* l, int64_t rows, int64_t n) {
  if (rows <= 0 || n <= 0) return;
  int64_t grain = std::max<int64_t>(1, (int64_t{16} << 10) / n);
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    if (n <= kShortRow<V> * V::width)
      short_stats<V>(Plain{x}, m, l, begin, end, n);
    else
      block_stats<AnyRow<V, false, true>>(Plain{x}, m, l, begin, end, n);
  });
}

template <class V>
void from_stats_kernel(const float* x, const float* m, const float* l, float* y, int64_t rows, int64_t n) {
  if (rows <= 0 || n <= 0) return;
  constexpr int W = V::width;
  int64_t grain = std::max<int64_t>(1, (int64_t{16} << 10) / n);
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      const V vm = V::broadcast(m[r]), vl = V::broadcast(l[r]);
      int64_t j = 0;
      for (; j + W <= n; j += W) simd::exp((V::load(xr + j) - vm) - vl).store(yr + j);
      if (j < n)
        simd::exp((V::load_first(xr + j, int(n - j), 0.0f) - vm) - vl).store_first(yr + j, int(n - j));
    }
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

void log_softmax_stats_rows(const float* x, float* m, float* l, int64_t rows, int64_t n) {
  stats_kernel<simd::Vec>(x, m, l, rows, n);
}
void softmax_from_stats_rows(const float* x, const float* m, const float* l, float* y, int64_t rows,
                             int64_t n) {
  from_stats_kernel<simd::Vec>(x, m, l, y, rows, n);
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
