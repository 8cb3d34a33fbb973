// Softmax and log-softmax over the rows of a contiguous (rows, n) matrix.
//
//   softmax(x)_j     = exp(x_j - m) / sum_i exp(x_i - m),   m = max_i x_i
//   log_softmax(x)_j = x_j - m - log(sum_i exp(x_i - m))
//
// Subtracting the row maximum keeps every exp in (0, 1]: logits of +-1e4 give
// exact answers, not inf/inf. One fused kernel, SIMD exp (see vmath.h for its
// error bound), rows spread over threads.
//
// The masked variant hides entries whose mask is non-zero (mask has the same
// (rows, n) layout as x; NaN mask entries are not supported). A row whose
// entries are all hidden (or whose visible logits are all -inf) gives zeros,
// never NaN: attention over a fully padded query attends to nothing. Unmasked,
// a row of all -inf gives NaN, as the formula (and PyTorch) does.
#pragma once

#include <cstdint>

namespace heed::kernels {

void softmax_rows(const float* x, float* y, int64_t rows, int64_t n);
void log_softmax_rows(const float* x, float* y, int64_t rows, int64_t n);
void masked_softmax_rows(const float* x, const float* mask, float* y, int64_t rows, int64_t n);

// Cross-entropy's halves, which never materialize log_softmax: per row of x,
// m = max_j x_j and l = log sum_j exp(x_j - m), so that log_softmax(x)_j is
// (x_j - m) - l, computed so, to the bit what log_softmax_rows writes; and from
// them y_j = exp((x_j - m) - l) = softmax(x)_j (y may be x itself).
void log_softmax_stats_rows(const float* x, float* m, float* l, int64_t rows, int64_t n);
void softmax_from_stats_rows(const float* x, const float* m, const float* l, float* y, int64_t rows,
                             int64_t n);

// The same fused kernels on the scalar back end of simd.h, so tests can hold
// the vector back end to them.
void softmax_rows_scalar(const float* x, float* y, int64_t rows, int64_t n);
void log_softmax_rows_scalar(const float* x, float* y, int64_t rows, int64_t n);
void masked_softmax_rows_scalar(const float* x, const float* mask, float* y, int64_t rows, int64_t n);

// Plain-loop twins with std::exp, for tests and lesson 03.
void softmax_rows_naive(const float* x, float* y, int64_t rows, int64_t n);
void log_softmax_rows_naive(const float* x, float* y, int64_t rows, int64_t n);
void masked_softmax_rows_naive(const float* x, const float* mask, float* y, int64_t rows, int64_t n);

}  // namespace heed::kernels
