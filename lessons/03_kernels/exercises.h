// Lesson 03's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// They are kernels, so they take raw row-major floats, as heed's own kernels do:
// a matrix with leading dimension ld holds element (r, c) at p[r * ld + c]. The
// lesson's rungs assume n is a multiple of their blocks; these take any size, and
// the tests try 1, 3, 17, 63, 65 and shapes that are far from square.
#pragma once

#include <cstdint>

namespace heed::lesson03 {

// Exercise 1: a cache-blocked matmul of any shape (section 4).
//   a: (m, k)  b: (k, n)  ->  c: (m, n) = a · b, all three contiguous.
// Cut the loops into blocks, outermost first: columns of C by nc, the sum by kc,
// rows of C by mc; inside one block run the i-k-j order of section 3. No block
// size need divide any size: the last block in each direction is shorter. Must:
//  - zero C once, before any block adds into it (c may hold garbage on entry);
//  - take the k blocks in increasing order, so that every c[i][j] adds its
//    terms in the order k = 0, 1, 2, ... (the naive order, the naive bits);
//  - keep the innermost loop on j, walking a row of B and a row of C with stride 1;
//  - write nothing outside c's m * n floats.
struct Blocks {
  int64_t mc = 64, kc = 256, nc = 256;  // each >= 1
};
void matmul_blocked(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n,
                    Blocks blocks = {});

// Exercise 2: a 4 x 16 micro-kernel, with the edge tiles (section 6).
//   a: a packed panel of A, (kc, 4) k-major: element (i, p) of A at a[p * 4 + i]
//   b: a packed panel of B, (kc, 16) k-major: element (p, j) of B at b[p * 16 + j]
//   c: C's tile, element (i, j) at c[i * ldc + j]
//   c (rows, cols) += a (rows, kc) · b (kc, cols),   1 <= rows <= 4, 1 <= cols <= 16, kc >= 1
// Must:
//  - keep the 4 x 16 tile of sums in registers for the whole k loop: 4 rows of
//    16 / V::width vectors of tensor/kernels/simd.h (1 with AVX-512, 2 with AVX2),
//    or a plain float acc[4][16] whose loops the compiler can unroll;
//  - each k: load B's 16 values once and use them for all 4 rows;
//  - read and write C once, after the k loop, and only its rows x cols corner:
//    at the edges of C (rows < 4 or cols < 16) the panels' spare lanes hold
//    anything (the tests put NaN there) and C's floats beyond the corner are
//    another tile's, so compute the whole 4 x 16 tile and store only the corner.
constexpr int kTileRows = 4, kTileCols = 16;
void micro_kernel_4x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols);

// Exercise 3: a packed matmul of any shape, on your micro-kernel (sections 5 and 6).
//   a: (m, k)  b: (k, n)  ->  c: (m, n) = a · b, all three contiguous.
// The loops of heed's sgemm (tensor/kernels/sgemm.cpp), with blocks of your choice
// (256 for kc and nc, 64 for mc are a good start):
//   for jc by nc, for pc by kc:   pack B's (kc, nc) block into 16-wide panels
//     for ic by mc:               pack A's (mc, kc) block into 4-tall panels
//       for each 4 x 16 tile:     micro_kernel_4x16 (exercise 2), with rows and
//                                 cols cut short at the last tiles of C
// Panels are k-major, as exercise 2 reads them, and zero-padded past the edge of
// the matrix, so the micro-kernel never reads a float nobody wrote.
// Must zero C first (it may hold garbage) and take the k blocks in order. The
// loop over ic may be `#pragma omp parallel for`, each thread with its own A
// buffer: every tile of C then belongs to one thread. Never split the k loop.
void matmul_packed(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n);

// Exercise 4: softmax of one row in two passes instead of three (section 9).
//   x: (n,), n >= 1, finite  ->  y: (n,) = softmax(x)
// The online softmax: one pass keeps the running max m and the running sum s of
// exp(x_i - m), rescaling s by exp(m_old - m_new) whenever the max grows; a second
// pass writes y_j = exp(x_j - m) / s. Must never overflow (rows of +-1000 give
// exact answers, not NaN) and must read x only twice.
void softmax_row_online(const float* x, float* y, int64_t n);

}  // namespace heed::lesson03
