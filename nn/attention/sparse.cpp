#include "nn/attention/sparse.h"

#include <cstdlib>

namespace heed::nn {
namespace {

// Resolves S = -1 to T and checks what every pattern needs.
int64_t check_sizes(const char* op, int64_t T, int64_t S) {
  if (S < 0) S = T;
  HEED_CHECK(T >= 0 && S >= T, op, ": ", T, " queries need at least as many keys, got ", S);
  return S;
}

// (T, S) with 1 where hidden(p, j) for query position p = S - T + i.
template <class Hidden>
Tensor pattern(int64_t T, int64_t S, Hidden hidden) {
  Tensor mask = empty({T, S});
  float* m = mask.data();
  for (int64_t i = 0; i < T; ++i) {
    const int64_t p = S - T + i;
    for (int64_t j = 0; j < S; ++j) m[i * S + j] = hidden(p, j) ? 1.0f : 0.0f;
  }
  return mask;
}

Tensor with_mask(Tensor pattern, const Tensor& mask) {
  if (!mask.defined()) return pattern;
  // ne: any non-zero hides, whatever its sign or size.
  return maximum(pattern, ne(mask, scalar(0.0f)));
}

}  // namespace

Tensor band_mask(int64_t T, int64_t left, int64_t right, int64_t S) {
  S = check_sizes("band_mask", T, S);
  HEED_CHECK(left >= 0 && right >= 0,
             "band_mask: left and right must be >= 0 (a query sees itself), got left ", left, " and right ",
             right);
  return pattern(T, S, [=](int64_t p, int64_t j) { return j < p - left || j > p + right; });
}

Band sliding_window_band(int64_t window, bool causal) {
  HEED_CHECK(window >= 1, "sliding_window: the window must hold at least 1 key, got ", window);
  return causal ? Band{window - 1, 0} : Band{window / 2, (window - 1) / 2};
}

Tensor sliding_window_mask(int64_t T, int64_t window, bool causal, int64_t S) {
  check_sizes("sliding_window_mask", T, S);
  Band band = sliding_window_band(window, causal);
  return band_mask(T, band.left, band.right, S);
}

Tensor strided_mask(int64_t T, int64_t stride, bool causal, int64_t S) {
  S = check_sizes("strided_mask", T, S);
  HEED_CHECK(stride >= 1, "strided_mask: the stride must be >= 1, got ", stride);
  return pattern(T, S, [=](int64_t p, int64_t j) {
    if (causal && j > p) return true;
    const int64_t distance = std::llabs(p - j);
    return !(distance < stride || distance % stride == 0);
  });
}

Attention sliding_window_attention(const Variable& q, const Variable& k, const Variable& v, int64_t window,
                                   bool causal, const Tensor& mask) {
  HEED_CHECK(q.dim() >= 2 && k.dim() >= 2, "sliding_window_attention: queries of shape ", q.shape(),
             " and keys of shape ", k.shape(), " need (..., T, Dh) and (..., S, Dh)");
  Tensor window_mask = sliding_window_mask(q.size(-2), window, causal, k.size(-2));
  return scaled_dot_product_attention(q, k, v, with_mask(window_mask, mask));
}

Attention strided_attention(const Variable& q, const Variable& k, const Variable& v, int64_t stride,
                            bool causal, const Tensor& mask) {
  HEED_CHECK(q.dim() >= 2 && k.dim() >= 2, "strided_attention: queries of shape ", q.shape(),
             " and keys of shape ", k.shape(), " need (..., T, Dh) and (..., S, Dh)");
  Tensor strided = strided_mask(q.size(-2), stride, causal, k.size(-2));
  return scaled_dot_product_attention(q, k, v, with_mask(strided, mask));
}

}  // namespace heed::nn
