// Reference solutions to lesson 03's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>
#include <cmath>
#include <vector>

#include "lessons/03_kernels/exercises.h"
// heed's vector types: not an installed header, but the one a lesson on kernels
// must open (lesson.cpp says why).
#include "tensor/kernels/simd.h"
#include "tensor/threads.h"

namespace heed::lesson03 {

void matmul_blocked(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n,
                    Blocks blocks) {
  std::fill_n(c, m * n, 0.0f);
  for (int64_t jc = 0; jc < n; jc += blocks.nc) {
    const int64_t j_end = std::min(n, jc + blocks.nc);
    for (int64_t pc = 0; pc < k; pc += blocks.kc) {
      const int64_t p_end = std::min(k, pc + blocks.kc);
      for (int64_t ic = 0; ic < m; ic += blocks.mc) {
        const int64_t i_end = std::min(m, ic + blocks.mc);
        for (int64_t i = ic; i < i_end; ++i)
          for (int64_t p = pc; p < p_end; ++p) {
            const float aip = a[i * k + p];
            for (int64_t j = jc; j < j_end; ++j) c[i * n + j] += aip * b[p * n + j];
          }
      }
    }
  }
}

void micro_kernel_4x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows,
                       int cols) {
  using V = simd::Vec;
  constexpr int MR = kTileRows, NR = kTileCols, NV = NR / V::width;  // NV vectors per row of the tile
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * V::width);
    for (int i = 0; i < MR; ++i) {
      const V ai = V::broadcast(a[i]);
      for (int v = 0; v < NV; ++v) acc[i][v] = fma(ai, bv[v], acc[i][v]);
    }
  }
  if (rows == MR && cols == NR) {
    for (int i = 0; i < MR; ++i)
      for (int v = 0; v < NV; ++v) {
        float* ci = c + i * ldc + v * V::width;
        (V::load(ci) + acc[i][v]).store(ci);
      }
    return;
  }
  // An edge tile: the whole tile into scratch, then only its rows x cols corner into C.
  float tile[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v].store(&tile[i][v * V::width]);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * ldc + j] += tile[i][j];
}

namespace {

// A (depth, width) block whose element (p, j) is at src[p * step_p + j * step_j],
// into W-wide k-major panels, dst[(j / W) * depth * W + p * W + j % W], zero past width.
// B packs with (step_p, step_j) = (ldb, 1); A, read as its transpose, with (1, lda).
template <int W>
void pack(const float* src, int64_t step_p, int64_t step_j, int64_t depth, int64_t width, float* dst) {
  for (int64_t j0 = 0; j0 < width; j0 += W, dst += depth * W) {
    const int64_t w = std::min<int64_t>(W, width - j0);
    for (int64_t p = 0; p < depth; ++p)
      for (int64_t j = 0; j < W; ++j) dst[p * W + j] = j < w ? src[p * step_p + (j0 + j) * step_j] : 0.0f;
  }
}

}  // namespace

void matmul_packed(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  constexpr int64_t KC = 256, NC = 256, MC = 64, MR = kTileRows, NR = kTileCols;
  std::fill_n(c, m * n, 0.0f);
  std::vector<float> pb(size_t(KC * NC));
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += KC) {
      const int64_t kc = std::min(KC, k - pc);
      pack<NR>(b + pc * n + jc, n, 1, kc, nc, pb.data());
#if defined(_OPENMP)
#pragma omp parallel for num_threads(num_threads())
#endif
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = std::min(MC, m - ic);
        std::vector<float> pa(size_t(MC * KC));
        pack<MR>(a + ic * k + pc, 1, k, kc, mc, pa.data());
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            micro_kernel_4x16(kc, pa.data() + ir * kc, pb.data() + jr * kc, c + (ic + ir) * n + jc + jr, n,
                              int(std::min(MR, mc - ir)), int(std::min(NR, nc - jr)));
      }
    }
  }
}

void softmax_row_online(const float* x, float* y, int64_t n) {
  float m = x[0], s = 1.0f;  // the first term: exp(x_0 - x_0) = 1
  for (int64_t j = 1; j < n; ++j) {
    if (x[j] > m) {
      s = s * std::exp(m - x[j]) + 1.0f;
      m = x[j];
    } else {
      s += std::exp(x[j] - m);
    }
  }
  const float inv = 1.0f / s;
  for (int64_t j = 0; j < n; ++j) y[j] = std::exp(x[j] - m) * inv;
}

}  // namespace heed::lesson03
