// sgemm, the Goto/BLIS way: pack, block for the caches, tile for the registers.
//
//   C (M, N) += op(A) (M, K) · op(B) (K, N), cut into
//
//   for jc over N by NC          op(B) block (KC, NC) packed into NR-wide panels: L3
//     for pc over K by KC
//       for ic over M by MC      op(A) block (MC, KC) packed into MR-tall panels: L2
//         for jr over NC by NR   one B panel (KC, NR) stays in L1
//           for ir over MC by MR   micro-kernel: an MR x NR tile of C held in registers
//                                  takes KC rank-1 updates, then meets C once
//
// Packing reads op(A) and op(B) through (row, column) strides, so the four
// transposition variants differ only in which stride is 1: no transpose is ever
// built. The last rows of C run a micro-kernel with fewer rows; the last columns
// run the full-width one (B panels are zero-padded) into a scratch tile.
//
// Threads split the ic loop (each owns a slab of C's rows) and share each packed
// B block, which they pack together; a short, wide C is split by columns instead.
//
// Determinism: every C element sums its K terms in the same order (K blocks in
// sequence, k within a block in sequence, whatever thread owns the tile); threads
// only split M or N, so the bits do not depend on the thread count.
#include "tensor/kernels/sgemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/sgemm_detail.h"
#include "tensor/kernels/simd.h"

namespace heed::kernels {
namespace {

// Register tile: MR rows x NR = 2 vectors. For AVX2 that is 6 x 16: 12 accumulators
// plus 2 B vectors and 1 broadcast A value out of 16 ymm registers, and 12
// independent FMAs per k, enough to cover 2 FMA units x 4 cycles of latency.
constexpr int MR = 6;
template <class V>
constexpr int NR = 2 * V::width;

// Cache blocks, tuned on Zen 3 with AVX2 (32 KiB L1d, 512 KiB L2 per core, 32 MiB L3):
//   B panel  KC x NR  = 256 x 16 floats = 16 KiB: half of L1, the rest streams A.
//   A block  MC x KC  = 144 x 256 floats = 144 KiB: well inside L2.
//   B block  KC x NC  = 256 x 4064 floats = 4 MiB: a slice of L3.
// With AVX-512 (NR = 32) the B panel is 32 KiB; on Zen 4 (32 KiB L1d, 1 MiB L2)
// the same blocks still run at 91-96% of the FMA peak on one core.
constexpr int64_t KC = 256;
constexpr int64_t MC = 144;   // a multiple of MR
constexpr int64_t NC = 4064;  // 127 x 32: a multiple of NR for every back end

// A matrix read through strides: element (r, c) is at p[r * rs + c * cs].
struct Strided {
  const float* p;
  int64_t rs, cs;
  const float* at(int64_t r, int64_t c) const { return p + r * rs + c * cs; }
};

Strided op_a(const GemmArgs& g) { return g.trans_a ? Strided{g.a, 1, g.lda} : Strided{g.a, g.lda, 1}; }
Strided op_b(const GemmArgs& g) { return g.trans_b ? Strided{g.b, 1, g.ldb} : Strided{g.b, g.ldb, 1}; }

// Where the micro-kernels find an A block: the MR-row panel at row ir starts at
// p + ir / MR * panel, and holds element (i, k) at i * rs + k * cs.
struct PanelsA {
  const float* p;
  int64_t panel, rs, cs;
};

#if defined(__AVX2__)
// In-register transpose: r[i] lane j  ->  r[j] lane i.
inline __attribute__((always_inline)) void transpose8x8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// The first W lanes of r into dst[0, W).
template <int W>
inline __attribute__((always_inline)) void store_first(__m256 r, float* dst) {
  static_assert(W == 6, "only MR = 6 rows are packed this way");
  _mm_storeu_ps(dst, _mm256_castps256_ps128(r));
  _mm_storel_pi(reinterpret_cast<__m64*>(dst + 4), _mm256_extractf128_ps(r, 1));
}
#endif

// dst[0, n) = src[0, n) in vector moves: the NR floats a B row deals to each panel
// are too few for a memcpy call to pay for itself.
inline void copy_floats(const float* __restrict src, int64_t n, float* __restrict dst) {
  using V = simd::Vec;
  int64_t i = 0;
  for (; i + V::width <= n; i += V::width) V::load(src + i).store(dst + i);
  for (; i < n; ++i) dst[i] = src[i];
}

// Packs a (kc, cols) block whose element (k, j) is at src[k * step_k + j * step_j]
// into W-wide panels, each (kc, W) k-major: panel p holds columns [p W, p W + W),
// dst[p * W * kc + k * W + j], zero-padded past `cols`. This is how op(B) packs
// into NR panels, and how op(A), read as its transpose (K, M), packs into MR panels.
template <int W>
void pack(const float* src, int64_t step_k, int64_t step_j, int64_t kc, int64_t cols, float* dst) {
  if (step_j == 1) {
    // Rows are contiguous: walk each source row once, dealing W floats to every
    // panel (reading panel by panel would stride down a column of cache lines).
    for (int64_t k = 0; k < kc; ++k) {
      const float* s = src + k * step_k;
      float* d = dst + k * W;
      int64_t j = 0;
      for (; j + W <= cols; j += W, d += W * kc) copy_floats(s + j, W, d);
      if (j < cols) {
        int width = int(cols - j);
        for (int i = 0; i < W; ++i) d[i] = i < width ? s[j + i] : 0.0f;
      }
    }
    return;
  }
  // Columns are contiguous: each panel is a transpose of its W source lines.
  for (int64_t j = 0; j < cols; j += W, dst += W * kc) {
    const float* s = src + j * step_j;
    const int width = int(std::min<int64_t>(W, cols - j));
    int64_t k = 0;
#if defined(__AVX2__)
    if constexpr (W % 8 == 0) {  // 8 x 8 blocks through registers
      for (; width == W && k + 8 <= kc; k += 8) {
        for (int i0 = 0; i0 < W; i0 += 8) {
          __m256 r[8];
          for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + (i0 + i) * step_j + k * step_k);
          transpose8x8(r);
          for (int kk = 0; kk < 8; ++kk) _mm256_storeu_ps(dst + (k + kk) * W + i0, r[kk]);
        }
      }
    }
    if constexpr (W == MR) {  // W lines (and 8 - W zeros) through one 8 x 8 transpose
      for (; width == W && k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i)
          r[i] = i < W ? _mm256_loadu_ps(s + i * step_j + k * step_k) : _mm256_setzero_ps();
        transpose8x8(r);
        for (int kk = 0; kk < 8; ++kk) store_first<W>(r[kk], dst + (k + kk) * W);
      }
    }
#endif
    for (; k < kc; ++k)
      for (int i = 0; i < W; ++i) dst[k * W + i] = i < width ? s[i * step_j + k * step_k] : 0.0f;
  }
}

// The micro-kernel: c (ROWS, NR) = a (ROWS, kc) · b (kc, NR)  [+ c when add]
// [+ bias (NR,) on every row, after the sum, when given: the last K block's].
// a is an A panel read through strides, element (i, k) at a[i * rsa + k * csa]
// (in place: rsa = lda, csa = 1; packed k-major: rsa = 1, csa = MR);
// b is a packed B panel, b[k * NR + j]. The ROWS x NR accumulators never leave
// registers. ROWS is MR but for the last rows of C, which then cost only what they
// compute. C's lines were prefetched by the caller, tiles ahead. Kept out of line so
// that its loop has every general register for addresses.
template <class V, int ROWS>
__attribute__((noinline)) void micro_kernel(int64_t kc, const float* __restrict a, int64_t rsa, int64_t csa,
                                            const float* __restrict b, float* c, int64_t ldc, bool add,
                                            const float* bias) {
  constexpr int W = V::width;
  V acc[ROWS][2];
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) acc[i][0] = acc[i][1] = V::zero();
    // Unrolled by 4: the loop's counter and pointer updates are then paid once per
    // 48 FMAs instead of 12 (measured: +1..3% on small products, nothing lost on large).
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k, a += csa, b += 2 * W) {
    V b0 = V::load(b), b1 = V::load(b + W);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; ++i) {
      V ai = V::broadcast(a[i * rsa]);
      acc[i][0] = fma(ai, b0, acc[i][0]);
      acc[i][1] = fma(ai, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) {
    float* ci = c + i * ldc;
    if (add) {
      acc[i][0] = acc[i][0] + V::load(ci);
      acc[i][1] = acc[i][1] + V::load(ci + W);
    }
    if (bias) {
      acc[i][0] = acc[i][0] + V::load(bias);
      acc[i][1] = acc[i][1] + V::load(bias + W);
    }
    acc[i][0].store(ci);
    acc[i][1].store(ci + W);
  }
}

// c (mc, nc) [+]= A block (mc, kc) · packed B block (kc, nc)  [+ bias (nc,) on every row].
template <class V>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const PanelsA& pa, const float* pb, float* c,
                  int64_t ldc, bool add, const float* bias) {
  constexpr int nr = NR<V>;
  static_assert(MR == 6, "one kernel per row count below");
  using Kernel =
      void (*)(int64_t, const float*, int64_t, int64_t, const float*, float*, int64_t, bool, const float*);
  static constexpr Kernel kernel_for_rows[MR + 1] = {nullptr,
                                                     micro_kernel<V, 1>,
                                                     micro_kernel<V, 2>,
                                                     micro_kernel<V, 3>,
                                                     micro_kernel<V, 4>,
                                                     micro_kernel<V, 5>,
                                                     micro_kernel<V, 6>};
  auto prefetch_row = [](float* row) {  // the lines of a tile's row of C, for writing
    constexpr int line = 64 / sizeof(float);
    for (int j = 0; j < nr; j += line) __builtin_prefetch(row + j, 1);
  };
  for (int64_t jr = 0; jr < nc; jr += nr) {
    const float* b = pb + jr * kc;
    const int64_t cols = std::min<int64_t>(nr, nc - jr);
    // C lines two tiles ahead, so that they arrive while the tiles before them
    // compute: C is often far out in memory (a (2048, 2048) score matrix is 16 MiB),
    // and when kc is small (64 for attention heads) one tile's kc updates (~400
    // cycles) are too short a wait. The first two tiles of the column here, then
    // each tile asks for the one two below it; every line of a tile's row (an
    // AVX-512 row of NR floats is two: asking for the first only left the second
    // to miss, and MultiHeadAttention's T 256 forward ran 5% slower).
    for (int64_t i = 0; i < 2 * MR && i < mc; ++i) prefetch_row(c + i * ldc + jr);
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const float* a = pa.p + ir / MR * pa.panel;
      float* cij = c + ir * ldc + jr;
      const int64_t rows = std::min<int64_t>(MR, mc - ir);
      for (int64_t i = 0; i < MR && ir + 2 * MR + i < mc; ++i) prefetch_row(cij + (2 * MR + i) * ldc);
      if (cols == nr) {
        kernel_for_rows[rows](kc, a, pa.rs, pa.cs, b, cij, ldc, add, bias ? bias + jr : nullptr);
        continue;
      }
      // Last columns: the full-width tile into scratch, then only its valid part into C.
      alignas(64) float tile[MR * nr];
      kernel_for_rows[rows](kc, a, pa.rs, pa.cs, b, tile, nr, false, nullptr);
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          float v = add ? cij[i * ldc + j] + tile[i * nr + j] : tile[i * nr + j];
          cij[i * ldc + j] = bias ? v + bias[jr + j] : v;
        }
    }
  }
}

// 64-byte aligned scratch of at least n floats, reused across calls on this thread
// (fresh pages cost ~10 us per 4 KiB; a packing buffer is touched every call).
float* scratch(std::vector<float>& buffer, size_t n) {
  if (buffer.size() < n + 16) buffer.resize(n + 16);
  auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + ((64 - address % 64) % 64) / sizeof(float);
}

// K is cut into equal blocks of at most KC (k = 257 gives 129 + 128, not 256 + 1),
// a function of k alone so that every thread sees the same blocks.
int64_t k_block(int64_t k) {
  int64_t blocks = (k + KC - 1) / KC;
  return (k + blocks - 1) / blocks;
}

// Below this much work (M N K multiply-adds, ~1 MFLOP, some 10 us on one core) a
// thread costs more to wake and to synchronize than it saves: each thread gets at
// least this much, so small products (64 x 64 x 192 inside an RNN step) stay on one.
constexpr double kMinWorkPerThread = 1 << 19;

// How many of `threads` a job of `work` multiply-adds is worth.
int threads_for(double work, int threads) {
  return int(std::clamp(work / kMinWorkPerThread, 1.0, double(std::max(threads, 1))));
}

// The whole blocked algorithm, on `threads` threads that split the rows of C and
// share each packed B block:
//
//   for each (jc, pc) step:  every thread packs its share of the B panels
//                            --- barrier: the B block is complete ---
//                            every thread runs its own row slab against it
//
// B blocks alternate between two buffers, so one barrier per step is enough: a
// thread that runs ahead packs the other buffer, and it cannot come back to this
// one before the next barrier, which the slowest thread reaches only when done.
template <class V>
void gemm_rows(const GemmArgs& g, int threads) {
  constexpr int nr = NR<V>;
  static_assert(NC % nr == 0, "a B block is whole panels");
  const int64_t kc_max = k_block(g.k);
  const int64_t b_floats = std::min<int64_t>(NC, (g.n + nr - 1) / nr * nr) * kc_max;
  thread_local std::vector<float> b_buffers[2];  // the calling thread owns the shared B blocks
  float* const pb[2] = {scratch(b_buffers[0], size_t(b_floats)),
                        threads > 1 ? scratch(b_buffers[1], size_t(b_floats)) : nullptr};
  const Strided a = op_a(g), b = op_b(g);
  // A is packed into k-major MR panels (a panel's MR values for one k are adjacent,
  // so the micro-kernel walks one stream instead of MR rows), except when the
  // product is too narrow to repay the packing: fewer than 16 B panels read each A
  // block. Then a non-transposed A is read in place, if its rows are at most 2 KiB
  // apart (farther, say 4 KiB, rows 16 apart fight over the same L2 sets).
  const bool a_in_place = !g.trans_a && g.lda <= 512 && g.n < 16 * nr;
  const int64_t row_panels = (g.m + MR - 1) / MR;

  auto run = [&](int t, int count) {
    thread_local std::vector<float> a_buffer;
    float* pa = scratch(a_buffer, size_t(MC * kc_max));
    // This thread's rows of C: whole MR panels, [i0, i1).
    const int64_t i0 = row_panels * t / count * MR, i1 = std::min(g.m, row_panels * (t + 1) / count * MR);
    // The slab in A blocks of equal height (whole MR panels, at most MC): 512 rows
    // as 4 x 128 rather than 3 x 144 + 80, whose thin last block reuses B less.
    const int64_t blocks = std::max<int64_t>(1, (i1 - i0 + MC - 1) / MC);
    const int64_t mc_even = std::max<int64_t>(MR, ((i1 - i0 + blocks - 1) / blocks + MR - 1) / MR * MR);
    int step = 0;
    for (int64_t jc = 0; jc < g.n; jc += NC) {
      const int64_t nc = std::min(NC, g.n - jc);
      for (int64_t pc = 0; pc < g.k; pc += kc_max, ++step) {
        const int64_t kc = std::min(kc_max, g.k - pc);
        const bool add = g.accumulate || pc > 0;
        const float* bias = g.bias && pc + kc == g.k ? g.bias + jc : nullptr;  // after the last K block
        float* block = pb[count > 1 ? step % 2 : 0];
        // This thread's share of the B panels: [q0, q1) out of nc / nr.
        const int64_t panels = (nc + nr - 1) / nr, q0 = panels * t / count, q1 = panels * (t + 1) / count;
        if (q1 > q0)
          pack<nr>(b.at(pc, jc + q0 * nr), b.rs, b.cs, kc, std::min(nc, q1 * nr) - q0 * nr,
                   block + q0 * nr * kc);
#if defined(_OPENMP)
        if (count > 1) {
#pragma omp barrier
        }
#endif
        for (int64_t ic = i0; ic < i1; ic += mc_even) {
          const int64_t mc = std::min(mc_even, i1 - ic);
          PanelsA panels_a{a.at(ic, pc), MR * g.lda, g.lda, 1};
          if (!a_in_place) {
            pack<MR>(a.at(ic, pc), a.cs, a.rs, kc, mc, pa);
            panels_a = {pa, MR * kc, 1, MR};
          }
          macro_kernel<V>(mc, nc, kc, panels_a, block, g.c + ic * g.ldc + jc, g.ldc, add, bias);
        }
      }
    }
  };
#if defined(_OPENMP)
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    run(omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  run(0, 1);
}

// The rows [i0, i0 + rows) and columns [j0, j0 + cols) of the product: a smaller gemm.
GemmArgs sub_problem(const GemmArgs& g, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  GemmArgs s = g;
  s.m = rows;
  s.n = cols;
  s.a = g.trans_a ? g.a + i0 : g.a + i0 * g.lda;
  s.b = g.trans_b ? g.b + j0 * g.ldb : g.b + j0;
  s.c = g.c + i0 * g.ldc + j0;
  if (g.bias) s.bias = g.bias + j0;
  return s;
}

// A single column (N = 1) or row (M = 1) of C is a matrix-vector product,
//
//   y (L) = M (L, K) · x (K),   M's element (l, k) at m[l * rs + k * cs],
//
// and memory-bound: each element of M is used once. The blocked path would pack M
// (reading it twice) and, for N = 1, pad the column to a full NR-wide tile (16x
// the work). Instead M is read once, in place, the way it is laid out:
//   rows contiguous (cs = 1):    dot products, 4 rows at a time sharing each x load;
//   columns contiguous (rs = 1): y += x_k · (row k of Mᵀ), streaming Mᵀ's rows,
//                                8 at a time, past a chunk of y held in L1.
// Measured on one thread, against the blocked path: (4096, 4096)·(4096, 1) 4.5x
// faster (~23 GB/s of M, about a copy's bandwidth); (1, 4096)·(4096, 4096) 2.2x,
// (1, 512)·(512, 512) 3.4x.
// Every y_l sums its K terms in one fixed order (the groups of 4 rows are fixed
// by l alone), so the bits do not depend on how threads split L.
struct Gemv {
  const float* m;
  int64_t rs, cs;
  const float* x;  // x_k at x[k * xs]
  int64_t xs;
  float* y;  // y_l at y[l * ys]
  int64_t ys;
  int64_t l, k;
  bool accumulate;
  void put(int64_t i, float v) const { y[i * ys] = accumulate ? y[i * ys] + v : v; }
};

// y_l for the R rows from l: vector partial sums, then the last K % W terms.
template <class V, int R>
void dot_rows(const Gemv& p, const float* x, int64_t l) {
  constexpr int W = V::width;
  const float* row[R];
  V acc[R];
  for (int r = 0; r < R; ++r) row[r] = p.m + (l + r) * p.rs, acc[r] = V::zero();
  int64_t k = 0;
  for (; k + W <= p.k; k += W) {
    V xv = V::load(x + k);
    for (int r = 0; r < R; ++r) acc[r] = fma(V::load(row[r] + k), xv, acc[r]);
  }
  for (int r = 0; r < R; ++r) {
    float sum = hsum(acc[r]);
    for (int64_t t = k; t < p.k; ++t) sum = std::fma(row[r][t], x[t], sum);
    p.put(l + r, sum);
  }
}

// y_l for l in [l0, l1): chunks of y sit in an L1 buffer while M streams past,
// R rows at a time (R streams from memory at once, and y is loaded and stored
// once per R rows); every y_l is still one fma chain over k, in order.
template <class V, int R>
void axpy_step(const Gemv& p, int64_t k, float* acc, int64_t c0, int64_t count) {
  constexpr int W = V::width;
  const float* row[R];
  float xk[R];
  V xv[R];
  for (int r = 0; r < R; ++r) {
    row[r] = p.m + (k + r) * p.cs + c0;
    xk[r] = p.x[(k + r) * p.xs];
    xv[r] = V::broadcast(xk[r]);
  }
  int64_t i = 0;
  for (; i + W <= count; i += W) {
    V a = V::load(acc + i);
    for (int r = 0; r < R; ++r) a = fma(xv[r], V::load(row[r] + i), a);
    a.store(acc + i);
  }
  for (; i < count; ++i)
    for (int r = 0; r < R; ++r) acc[i] = std::fma(xk[r], row[r][i], acc[i]);
}

template <class V>
void axpy_rows(const Gemv& p, int64_t l0, int64_t l1) {
  constexpr int kRows = 8;
  constexpr int64_t kChunk = 2048;  // 8 KiB of y
  alignas(64) float acc[kChunk];
  for (int64_t c0 = l0; c0 < l1; c0 += kChunk) {
    const int64_t count = std::min(kChunk, l1 - c0);
    std::fill_n(acc, count, 0.0f);
    int64_t k = 0;
    for (; k + kRows <= p.k; k += kRows) axpy_step<V, kRows>(p, k, acc, c0, count);
    for (; k < p.k; ++k) axpy_step<V, 1>(p, k, acc, c0, count);
    for (int64_t i = 0; i < count; ++i) p.put(c0 + i, acc[i]);
  }
}

template <class V>
void gemv(const Gemv& p, int threads) {
  constexpr int kRows = 4;
  const bool by_rows = p.cs == 1;
  // The work is split in whole units: groups of rows fix each y_l's order of summation.
  const int64_t unit = by_rows ? kRows : 64, units = (p.l + unit - 1) / unit;
  threads = threads_for(double(p.l) * double(p.k), threads);
  std::vector<float> gathered;  // x made contiguous for the dot products
  const float* x = p.x;
  if (by_rows && p.xs != 1) {
    gathered.resize(size_t(p.k));
    for (int64_t k = 0; k < p.k; ++k) gathered[size_t(k)] = p.x[k * p.xs];
    x = gathered.data();
  }
  parallel_for(units, (units + threads - 1) / threads, [&](int64_t begin, int64_t end) {
    const int64_t l0 = begin * unit, l1 = std::min(end * unit, p.l);
    int64_t l = l0;
    if (by_rows) {
      for (; l + kRows <= l1; l += kRows) dot_rows<V, kRows>(p, x, l);
      for (; l < l1; ++l) dot_rows<V, 1>(p, x, l);
      return;
    }
    axpy_rows<V>(p, l, l1);
  });
}

// C's single column: y = op(A) · op(B)'s column; C's single row: yᵀ = op(B)ᵀ · op(A)'s row.
Gemv column_gemv(const GemmArgs& g) {
  return {g.a, g.trans_a ? 1 : g.lda, g.trans_a ? g.lda : 1, g.b, g.trans_b ? 1 : g.ldb, g.c, g.ldc, g.m,
          g.k, g.accumulate};
}
Gemv row_gemv(const GemmArgs& g) {
  return {g.b, g.trans_b ? g.ldb : 1, g.trans_b ? 1 : g.ldb, g.a, g.trans_a ? g.lda : 1, g.c, 1, g.n,
          g.k, g.accumulate};
}

// Threads split C into slabs of whole tiles. A large product runs as row slabs that
// share each packed B block: packing B once instead of once per thread saves more
// than the barrier per K block costs once a B block holds 64 Ki floats or more
// (256 KiB; measured: 2 threads at N = 1024 gain ~10%, while (128, 64)·(64, 128)
// loses ~25% to the barrier). Smaller products run as independent slabs, each
// packing its own B: row slabs, or column slabs when C is short and wide.
constexpr int64_t kSharedBMin = 64 * 1024;

// C's rows += bias, for the paths whose stores do not add it themselves.
void add_bias(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] += g.bias[j];
}

template <class V>
void gemm(const GemmArgs& g, int threads) {
  constexpr int nr = NR<V>;
  if (g.m <= 0 || g.n <= 0) return;
  // An empty sum, and the matrix-vector paths (memory-bound on A or B: C's one
  // row or column is a small extra walk).
  const bool vector_path = g.k <= 0 || g.n == 1 || g.m == 1;
  if (g.k <= 0) {
    if (!g.accumulate)
      for (int64_t i = 0; i < g.m; ++i) std::fill_n(g.c + i * g.ldc, g.n, 0.0f);
  } else if (g.n == 1) {
    gemv<V>(column_gemv(g), threads);
  } else if (g.m == 1) {
    gemv<V>(row_gemv(g), threads);
  }
  if (vector_path) {
    if (g.bias) add_bias(g);
    return;
  }
  threads = threads_for(double(g.m) * double(g.n) * double(g.k), threads);
  const int64_t row_panels = (g.m + MR - 1) / MR, col_panels = (g.n + nr - 1) / nr;
  if (threads == 1) return gemm_rows<V>(g, 1);
  if (row_panels >= 2 * threads && k_block(g.k) * std::min(NC, g.n) >= kSharedBMin)
    return gemm_rows<V>(g, threads);
  const bool by_rows = row_panels >= 2 * threads || row_panels >= col_panels;
  const int64_t panels = by_rows ? row_panels : col_panels, unit = by_rows ? MR : nr;
  // Slabs of at least panels / threads panels, so at most `threads` of them.
  parallel_for(panels, (panels + threads - 1) / threads, [&](int64_t begin, int64_t end) {
    const int64_t from = begin * unit, to = std::min(end * unit, by_rows ? g.m : g.n);
    gemm_rows<V>(by_rows ? sub_problem(g, from, to - from, 0, g.n) : sub_problem(g, 0, g.m, from, to - from),
                 1);
  });
}

// A batch of products. Small ones (below 128^3 the row slabs get thin and cost a
// barrier per K block) are spread over the batch, whole products per thread, in
// chunks of at least kMinWorkPerThread, so a batch of tiny ones stays on one thread;
// large ones run one after another, each on every thread.
template <class V>
void gemm_batched(const GemmArgs& shape, const float* const* a, const float* const* b, float* const* c,
                  int64_t batch) {
  const double work = double(shape.m) * double(shape.n) * double(shape.k);
  const bool spread = work < 128.0 * 128.0 * 128.0;
  auto one = [&](int64_t i, int product_threads) {
    GemmArgs g = shape;
    g.a = a[i];
    g.b = b[i];
    g.c = c[i];
    gemm<V>(g, product_threads);
  };
  if (spread) {
    const auto grain = int64_t(std::ceil(kMinWorkPerThread / std::max(work, 1.0)));
    parallel_for(batch, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) one(i, 1);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i) one(i, num_threads());
  }
}

}  // namespace

// C (M, N) = op(A) · op(B) [+ C]: i-k-j order, so the inner loop walks a row of B and C.
void sgemm_naive(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* c = g.c + i * g.ldc;
    if (!g.accumulate) std::fill_n(c, g.n, 0.0f);
    for (int64_t p = 0; p < g.k; ++p) {
      float aip = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
      for (int64_t j = 0; j < g.n; ++j) c[j] += aip * (g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j]);
    }
  }
  if (g.bias) add_bias(g);
}

void sgemm(const GemmArgs& g) { gemm<simd::Vec>(g, num_threads()); }
void sgemm_this_thread(const GemmArgs& g) { gemm<simd::Vec>(g, 1); }

void sgemm_batched(const GemmArgs& shape, const float* const* a, const float* const* b, float* const* c,
                   int64_t batch) {
  gemm_batched<simd::Vec>(shape, a, b, c, batch);
}

namespace detail {
void sgemm_scalar(const GemmArgs& g) { gemm<simd::VecScalar>(g, num_threads()); }
}  // namespace detail

}  // namespace heed::kernels
