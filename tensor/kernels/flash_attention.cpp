// Fused attention kernels (see flash_attention.h for the math and the plan).
//
// Every product of tiles is sgemm_this_thread: the tiles are small ((Br, Bc)
// by Dh), already in cache, and each task is one thread's. The row work between
// the products (masking, max, exp, sums) runs on simd.h vectors, with the same
// template on VecScalar for a row's tail, so a row's arithmetic does not depend
// on where it sits in the problem or on the thread that runs it.
#include "tensor/kernels/flash_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tensor/kernels/dropout_hash.h"
#include "tensor/kernels/parallel.h"
#include "tensor/kernels/sgemm.h"
#include "tensor/kernels/simd.h"
#include "tensor/kernels/vmath.h"

namespace heed::kernels {
namespace {

using simd::Vec;
using simd::VecScalar;
constexpr int64_t W = Vec::width;
constexpr float kInf = std::numeric_limits<float>::infinity();

// The keys query row i sees, [first, last] (first > last: none), from the band
// alone; padding is applied per key.
struct Band {
  int64_t t, s, left, right;
  int64_t pos(int64_t i) const { return s - t + i; }
  int64_t first(int64_t i) const { return left < 0 ? 0 : std::max<int64_t>(0, pos(i) - left); }
  int64_t last(int64_t i) const { return right < 0 ? s - 1 : std::min<int64_t>(s - 1, pos(i) + right); }
  // The query rows that see some key of [j0, j1): [lo, hi) (lo >= hi: none).
  int64_t rows_from(int64_t j0) const { return right < 0 ? 0 : std::max<int64_t>(0, j0 - right - (s - t)); }
  int64_t rows_to(int64_t j1) const {
    return left < 0 ? t : std::min<int64_t>(t, j1 - 1 + left - (s - t) + 1);
  }
};

Band band_of(const FlashAttentionArgs& a) { return {a.t, a.s, a.left, a.right}; }
int64_t block_q(const FlashAttentionArgs& a) { return a.block_q > 0 ? a.block_q : kFlashBlockQ; }
int64_t block_k(const FlashAttentionArgs& a) { return a.block_k > 0 ? a.block_k : kFlashBlockK; }

// The dropout mask of the weights: element (b, i, j) of the (batch, T, S)
// weights is kept, times 1 / (1 - p), iff u(seed, (b T + i) S + j) >= p.
struct DropMask {
  float p, scale;
  uint32_t s0, s1;
  int64_t t, s;
  bool on() const { return p > 0.0f; }
  float at(int64_t b, int64_t i, int64_t j) const {
    return dropout_hash_uniform(s0, s1, uint64_t((b * t + i) * s + j)) >= p ? scale : 0.0f;
  }
  // y[c] = x[c] m(b, i, j0 + c) for c < n (y may be x). The row's indices
  // share their high word unless they cross a multiple of 2^32: then the hash
  // is dropout_hash_uniform's with that word hoisted, in a loop of 32-bit lanes
  // that vectorizes (the members copied out, so no store can alias them).
  void apply(const float* x, float* y, int64_t n, int64_t b, int64_t i, int64_t j0) const {
    const uint64_t base = uint64_t((b * t + i) * s + j0);
    const uint32_t lo = uint32_t(base), hi = uint32_t(base >> 32) + s1, k0 = s0;
    const float keep = p, f = scale;
    if (uint64_t(lo) + uint64_t(n) > (uint64_t{1} << 32)) {
      for (int64_t c = 0; c < n; ++c)
        y[c] = dropout_hash_uniform(k0, s1, base + uint64_t(c)) >= keep ? x[c] * f : 0.0f;
      return;
    }
    for (int64_t c = 0; c < n; ++c) {
      const uint32_t h = fmix32(fmix32((lo + uint32_t(c)) ^ k0) ^ hi);
      y[c] = float(h >> 8) * 0x1p-24f >= keep ? x[c] * f : 0.0f;
    }
  }
};

DropMask drop_of(const FlashAttentionArgs& a) {
  return {a.dropout,
          a.dropout < 1.0f ? 1.0f / (1.0f - a.dropout) : 0.0f,
          uint32_t(a.seed),
          uint32_t(a.seed >> 32),
          a.t,
          a.s};
}

// Tasks per chunk so that a chunk is worth waking a thread for (~1 MFLOP): tiny
// problems (tests, gradcheck) stay on the calling thread. Chunking never changes
// a task's arithmetic, so results stay the same for any thread count.
int64_t grain(int64_t flop_per_task) {
  return std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, flop_per_task));
}

// Row j0 .. j0 + n of the scores of query i: hidden keys -> -inf. Most tiles
// lie inside the band and have no padding: then nothing is touched.
void hide(float* row, int64_t n, int64_t j0, int64_t first, int64_t last, const float* pad) {
  const int64_t lo = std::clamp<int64_t>(first - j0, 0, n), hi = std::clamp<int64_t>(last - j0 + 1, lo, n);
  std::fill(row, row + lo, -kInf);
  std::fill(row + hi, row + n, -kInf);
  if (pad)
    for (int64_t c = lo; c < hi; ++c)
      if (pad[j0 + c] != 0.0f) row[c] = -kInf;
}

float row_max(const float* x, int64_t n) {
  int64_t j = 0;
  float m = -kInf;
  if (n >= W) {
    Vec vm = Vec::broadcast(-kInf);
    for (; j + W <= n; j += W) vm = max(vm, Vec::load(x + j));
    m = hmax(vm);
  }
  for (; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

// x = exp(x - m) in place (x <= m, -inf gives 0), returning the sum:
// softmax's exp (vmath.h), 12 vector operations instead of 17.
float exp_shifted_sum(float* x, int64_t n, float m) {
  int64_t j = 0;
  Vec vs = Vec::zero(), vm = Vec::broadcast(m);
  for (; j + W <= n; j += W) {
    Vec e = simd::exp_softmax(Vec::load(x + j) - vm);
    e.store(x + j);
    vs = vs + e;
  }
  float s = hsum(vs);
  for (; j < n; ++j) s += (x[j] = simd::exp_softmax(VecScalar{x[j] - m}).v);
  return s;
}

// y[0, n) = x[0, n) * f, through restrict pointers so that the loop vectorizes.
void scaled_copy(const float* __restrict x, float* __restrict y, int64_t n, float f) {
  for (int64_t j = 0; j < n; ++j) y[j] = x[j] * f;
}

// x = exp(x - lse) in place: the backward's probabilities. x - lse may round
// a little above 0: clamped to 0 (p <= 1, as it is), softmax's exp for x <= 0
// serves, 13 vector operations with the clamp instead of the general exp's 24
// (constant first in min: a NaN flows through).
template <class V>
V exp_below_zero(V x) {
  return simd::exp_softmax(min(V::zero(), x));
}

void exp_minus(float* x, int64_t n, float lse) {
  int64_t j = 0;
  const Vec vl = Vec::broadcast(lse);
  for (; j + W <= n; j += W) exp_below_zero(Vec::load(x + j) - vl).store(x + j);
  for (; j < n; ++j) x[j] = exp_below_zero(VecScalar{x[j] - lse}).v;
}

void scale_row(float* x, int64_t n, float f) {
  int64_t j = 0;
  const Vec vf = Vec::broadcast(f);
  for (; j + W <= n; j += W) (Vec::load(x + j) * vf).store(x + j);
  for (; j < n; ++j) x[j] *= f;
}

float dot(const float* x, const float* y, int64_t n) {
  int64_t j = 0;
  Vec acc = Vec::zero();
  for (; j + W <= n; j += W) acc = fma(Vec::load(x + j), Vec::load(y + j), acc);
  float s = hsum(acc);
  for (; j < n; ++j) s = std::fma(x[j], y[j], s);
  return s;
}

// dp = pm * dp - p * d: the softmax backward of one row whose weights were
// dropped, pm = m * p (= p * (m * dp - d)).
void dropped_softmax_grad_row(const float* p, const float* pm, float* dp, int64_t n, float d) {
  int64_t j = 0;
  const Vec vd = Vec::broadcast(d);
  for (; j + W <= n; j += W) (Vec::load(pm + j) * Vec::load(dp + j) - Vec::load(p + j) * vd).store(dp + j);
  for (; j < n; ++j) dp[j] = pm[j] * dp[j] - p[j] * d;
}

// dp = p * (dp - d): the softmax backward of one row.
void softmax_grad_row(const float* p, float* dp, int64_t n, float d) {
  int64_t j = 0;
  const Vec vd = Vec::broadcast(d);
  for (; j + W <= n; j += W) (Vec::load(p + j) * (Vec::load(dp + j) - vd)).store(dp + j);
  for (; j < n; ++j) dp[j] = p[j] * (dp[j] - d);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* x, int64_t ldx, const float* y,
          int64_t ldy, float* c, int64_t ldc, bool accumulate) {
  GemmArgs g;
  g.trans_a = ta, g.trans_b = tb, g.m = m, g.n = n, g.k = k;
  g.a = x, g.lda = ldx, g.b = y, g.ldb = ldy, g.c = c, g.ldc = ldc, g.accumulate = accumulate;
  sgemm_this_thread(g);
}

}  // namespace

// ------------------------------------------------------------- forward
void flash_attention_forward(const FlashAttentionArgs& a) {
  if (a.batch <= 0 || a.t <= 0) return;
  const Band band = band_of(a);
  const DropMask drop = drop_of(a);
  const int64_t Br = block_q(a), Bc = block_k(a), blocks = (a.t + Br - 1) / Br;
  parallel_for(a.batch * blocks, grain(4 * Br * a.s * (a.dh + a.dv)), [&](int64_t begin, int64_t end) {
    // This thread's tiles: scaled q (Br, Dh), scores (Br, Bc), output (Br, Dv).
    std::vector<float> qs(static_cast<size_t>(Br * a.dh)), sc(static_cast<size_t>(Br * Bc)),
        acc(static_cast<size_t>(Br * a.dv)), m(static_cast<size_t>(Br)), l(static_cast<size_t>(Br));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t p = task / blocks, i0 = (task % blocks) * Br, rows = std::min(Br, a.t - i0);
      const float* pad = a.key_padding ? a.key_padding[p] : nullptr;
      for (int64_t r = 0; r < rows; ++r) scaled_copy(a.q[p] + (i0 + r) * a.ldq, &qs[r * a.dh], a.dh, a.scale);
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(m.begin(), m.end(), -kInf);
      std::fill(l.begin(), l.end(), 0.0f);
      // The keys any row of the block sees; blocks outside them are skipped.
      const int64_t first = band.first(i0), last = band.last(i0 + rows - 1);
      for (int64_t j0 = first / Bc * Bc; j0 <= last; j0 += Bc) {
        const int64_t cols = std::min(Bc, a.s - j0);
        // (rows, cols) = scale q (rows, Dh) · kᵀ, k stored (cols, Dh)
        gemm(false, true, rows, cols, a.dh, qs.data(), a.dh, a.k[p] + j0 * a.ldk, a.ldk, sc.data(), Bc,
             false);
        for (int64_t r = 0; r < rows; ++r) {
          float* row = sc.data() + r * Bc;
          hide(row, cols, j0, band.first(i0 + r), band.last(i0 + r), pad);
          const float mnew = std::max(m[r], row_max(row, cols));
          if (mnew == -kInf) {  // nothing visible yet: the row adds nothing
            std::fill(row, row + cols, 0.0f);
            continue;
          }
          const float alpha = std::exp(m[r] - mnew);  // the old terms, rescaled to the new max (0 at first)
          l[r] = l[r] * alpha + exp_shifted_sum(row, cols, mnew);
          m[r] = mnew;
          if (alpha != 1.0f) scale_row(acc.data() + r * a.dv, a.dv, alpha);
          // The sum l is the undropped one; only the product with v sees the mask.
          if (drop.on()) drop.apply(row, row, cols, p, i0 + r, j0);
        }
        // (rows, Dv) += p (rows, cols) · v (cols, Dv)
        if (a.dv > 0)
          gemm(false, false, rows, a.dv, cols, sc.data(), Bc, a.v[p] + j0 * a.ldv, a.ldv, acc.data(), a.dv,
               true);
      }
      for (int64_t r = 0; r < rows; ++r) {
        float* out = a.out[p] + (i0 + r) * a.ldo;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;  // no visible key: output 0
        scaled_copy(&acc[r * a.dv], out, a.dv, inv);
        a.lse[p][i0 + r] = l[r] > 0.0f ? m[r] + std::log(l[r]) : -kInf;
      }
    }
  });
}

// ------------------------------------------------------------- backward
void flash_attention_backward(const FlashAttentionArgs& a) {
  if (a.batch <= 0) return;
  const Band band = band_of(a);
  const DropMask drop = drop_of(a);
  const int64_t Br = block_q(a), Bc = block_k(a);
  parallel_for(a.batch, grain(8 * a.t * a.s * (a.dh + a.dv)), [&](int64_t begin, int64_t end) {
    // Scaled q (T, Dh) and D (T,) of the problem; tiles p and dp (Br, Bc); the
    // key block's dk (Bc, Dh) and dv (Bc, Dv).
    std::vector<float> qs(static_cast<size_t>(a.t * a.dh)), d(static_cast<size_t>(a.t)),
        sc(static_cast<size_t>(Br * Bc)), dp(static_cast<size_t>(Br * Bc)),
        dk(static_cast<size_t>(Bc * a.dh)), dv(static_cast<size_t>(Bc * a.dv)),
        pm(static_cast<size_t>(drop.on() ? Br * Bc : 0));  // the dropped weights m * p (Br, Bc)
    for (int64_t p = begin; p < end; ++p) {
      const float* pad = a.key_padding ? a.key_padding[p] : nullptr;
      const float *q = a.q[p], *k = a.k[p], *v = a.v[p], *o = a.out[p], *go = a.dout[p], *lse = a.lse[p];
      float* dq = a.dq[p];
      for (int64_t i = 0; i < a.t; ++i) {
        scaled_copy(q + i * a.ldq, &qs[i * a.dh], a.dh, a.scale);
        std::fill(dq + i * a.ld_dq, dq + i * a.ld_dq + a.dh, 0.0f);
        d[i] = dot(go + i * a.ld_dout, o + i * a.ldo, a.dv);  // D_i = dout_i . out_i
      }
      for (int64_t j0 = 0; j0 < a.s; j0 += Bc) {
        const int64_t cols = std::min(Bc, a.s - j0);
        std::fill(dk.begin(), dk.end(), 0.0f);
        std::fill(dv.begin(), dv.end(), 0.0f);
        const int64_t lo = band.rows_from(j0), hi = band.rows_to(j0 + cols);
        for (int64_t i0 = lo / Br * Br; i0 < hi; i0 += Br) {
          const int64_t rows = std::min(Br, a.t - i0);
          // p (rows, cols) = exp(scale q kᵀ - lse), recomputed as the forward had it
          gemm(false, true, rows, cols, a.dh, qs.data() + i0 * a.dh, a.dh, k + j0 * a.ldk, a.ldk, sc.data(),
               Bc, false);
          for (int64_t r = 0; r < rows; ++r) {
            float* row = sc.data() + r * Bc;
            const float li = lse[i0 + r];
            if (li == -kInf) {  // a row that saw nothing has no gradient
              std::fill(row, row + cols, 0.0f);
              continue;
            }
            hide(row, cols, j0, band.first(i0 + r), band.last(i0 + r), pad);
            exp_minus(row, cols, li);
          }
          if (drop.on())
            for (int64_t r = 0; r < rows; ++r)
              drop.apply(sc.data() + r * Bc, pm.data() + r * Bc, cols, p, i0 + r, j0);
          const float* pv = drop.on() ? pm.data() : sc.data();  // the weights that met v
          // dv (cols, Dv) += (m * p)ᵀ (cols, rows) · dout (rows, Dv)
          if (a.dv > 0)
            gemm(true, false, cols, a.dv, rows, pv, Bc, go + i0 * a.ld_dout, a.ld_dout, dv.data(), a.dv,
                 true);
          // dp (rows, cols) = dout (rows, Dv) · vᵀ, v stored (cols, Dv); then ds = p * (dp - D) in its place
          if (a.dv > 0)
            gemm(false, true, rows, cols, a.dv, go + i0 * a.ld_dout, a.ld_dout, v + j0 * a.ldv, a.ldv,
                 dp.data(), Bc, false);
          else
            std::fill(dp.begin(), dp.end(), 0.0f);
          if (drop.on())  // ds = p * (m * dp - D)
            for (int64_t r = 0; r < rows; ++r)
              dropped_softmax_grad_row(sc.data() + r * Bc, pm.data() + r * Bc, dp.data() + r * Bc, cols,
                                       d[i0 + r]);
          else
            for (int64_t r = 0; r < rows; ++r)
              softmax_grad_row(sc.data() + r * Bc, dp.data() + r * Bc, cols, d[i0 + r]);
          if (a.dh > 0) {
            // dq (rows, Dh) += ds (rows, cols) · k (cols, Dh)   (times scale at the end)
            gemm(false, false, rows, a.dh, cols, dp.data(), Bc, k + j0 * a.ldk, a.ldk, dq + i0 * a.ld_dq,
                 a.ld_dq, true);
            // dk (cols, Dh) += dsᵀ (cols, rows) · scale q (rows, Dh)
            gemm(true, false, cols, a.dh, rows, dp.data(), Bc, qs.data() + i0 * a.dh, a.dh, dk.data(), a.dh,
                 true);
          }
        }
        for (int64_t c = 0; c < cols; ++c) {
          std::copy_n(dk.data() + c * a.dh, a.dh, a.dk[p] + (j0 + c) * a.ld_dk);
          std::copy_n(dv.data() + c * a.dv, a.dv, a.dvv[p] + (j0 + c) * a.ld_dv);
        }
      }
      for (int64_t i = 0; i < a.t; ++i) scale_row(dq + i * a.ld_dq, a.dh, a.scale);
    }
  });
}

// ------------------------------------------------------------- naive twins
void flash_attention_forward_naive(const FlashAttentionArgs& a) {
  const Band band = band_of(a);
  const DropMask drop = drop_of(a);
  std::vector<float> s(static_cast<size_t>(a.s));
  for (int64_t p = 0; p < a.batch; ++p) {
    const float* pad = a.key_padding ? a.key_padding[p] : nullptr;
    for (int64_t i = 0; i < a.t; ++i) {
      const float* qi = a.q[p] + i * a.ldq;
      float m = -kInf;
      for (int64_t j = 0; j < a.s; ++j) {
        const bool visible = j >= band.first(i) && j <= band.last(i) && !(pad && pad[j] != 0.0f);
        float dotp = 0.0f;
        for (int64_t c = 0; c < a.dh; ++c) dotp += qi[c] * a.k[p][j * a.ldk + c];
        s[j] = visible ? a.scale * dotp : -kInf;
        m = std::max(m, s[j]);
      }
      float* out = a.out[p] + i * a.ldo;
      std::fill(out, out + a.dv, 0.0f);
      if (m == -kInf) {
        a.lse[p][i] = -kInf;
        continue;
      }
      float l = 0.0f;
      for (int64_t j = 0; j < a.s; ++j) l += (s[j] = std::exp(s[j] - m));
      for (int64_t j = 0; j < a.s; ++j) {
        const float w = s[j] / l * (drop.on() ? drop.at(p, i, j) : 1.0f);
        for (int64_t c = 0; c < a.dv; ++c) out[c] += w * a.v[p][j * a.ldv + c];
      }
      a.lse[p][i] = m + std::log(l);
    }
  }
}

void flash_attention_backward_naive(const FlashAttentionArgs& a) {
  const Band band = band_of(a);
  const DropMask drop = drop_of(a);
  for (int64_t p = 0; p < a.batch; ++p) {
    const float* pad = a.key_padding ? a.key_padding[p] : nullptr;
    for (int64_t i = 0; i < a.t; ++i) std::fill(a.dq[p] + i * a.ld_dq, a.dq[p] + i * a.ld_dq + a.dh, 0.0f);
    for (int64_t j = 0; j < a.s; ++j) {
      std::fill(a.dk[p] + j * a.ld_dk, a.dk[p] + j * a.ld_dk + a.dh, 0.0f);
      std::fill(a.dvv[p] + j * a.ld_dv, a.dvv[p] + j * a.ld_dv + a.dv, 0.0f);
    }
    for (int64_t i = 0; i < a.t; ++i) {
      const float *qi = a.q[p] + i * a.ldq, *gi = a.dout[p] + i * a.ld_dout, *oi = a.out[p] + i * a.ldo;
      const float lse = a.lse[p][i];
      if (lse == -kInf) continue;
      float d = 0.0f;
      for (int64_t c = 0; c < a.dv; ++c) d += gi[c] * oi[c];
      for (int64_t j = band.first(i); j <= band.last(i); ++j) {
        if (pad && pad[j] != 0.0f) continue;
        const float *kj = a.k[p] + j * a.ldk, *vj = a.v[p] + j * a.ldv;
        float s = 0.0f, dp = 0.0f;
        for (int64_t c = 0; c < a.dh; ++c) s += qi[c] * kj[c];
        for (int64_t c = 0; c < a.dv; ++c) dp += gi[c] * vj[c];
        const float m = drop.on() ? drop.at(p, i, j) : 1.0f;
        const float prob = std::exp(a.scale * s - lse), ds = prob * (m * dp - d);
        for (int64_t c = 0; c < a.dh; ++c) {
          a.dq[p][i * a.ld_dq + c] += a.scale * ds * kj[c];
          a.dk[p][j * a.ld_dk + c] += a.scale * ds * qi[c];
        }
        for (int64_t c = 0; c < a.dv; ++c) a.dvv[p][j * a.ld_dv + c] += m * prob * gi[c];
      }
    }
  }
}

}  // namespace heed::kernels
