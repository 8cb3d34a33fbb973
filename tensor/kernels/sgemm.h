// Single-precision matrix multiply, the kernel every layer leans on.
//
//   C (M, N) = op(A) (M, K) · op(B) (K, N)  [+ C when accumulate]  [+ bias on every row]
//
// All matrices are row-major with a leading dimension (the distance between
// rows). op(X) is X, or its transpose when trans_x is set: then A is stored as
// (K, M) and B as (N, K). The transposed variants let autograd's backward
// (dA = dC·Bᵀ, dB = Aᵀ·dC) run without ever materializing a transpose.
//
// sgemm is packed, cache-blocked and register-tiled; a C of a single row or
// column takes a matrix-vector path that reads the matrix once, in place. OpenMP
// splits C, never K, so the result is bitwise identical for any thread count.
// sgemm_naive is its plain-loop twin, kept for tests and for lesson 03.
#pragma once

#include <cstdint>

namespace heed::kernels {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  bool accumulate = false;  // C += op(A)·op(B) instead of C = op(A)·op(B)
  // (n,) added to every row of C once the product is in: C = op(A)·op(B) [+ C]
  // + bias, in the pass that stores each tile (a layer's bias without a second
  // walk over C), to the bit what a separate add after the product gives.
  const float* bias = nullptr;
};

void sgemm(const GemmArgs& g);
// The same product on the calling thread only, for kernels that already spread
// their work over threads (attention_forward).
void sgemm_this_thread(const GemmArgs& g);
void sgemm_naive(const GemmArgs& g);

// A batch of independent products with the same sizes, flags and leading
// dimensions; a[i], b[i], c[i] point at the i-th matrices (broadcast batches may
// repeat a pointer in a or b, never in c). Small matrices are spread over the
// batch, large ones over the blocks of each C.
void sgemm_batched(const GemmArgs& shape, const float* const* a, const float* const* b, float* const* c,
                   int64_t batch);

}  // namespace heed::kernels
