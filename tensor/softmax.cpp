// softmax, log_softmax and masked_softmax along any dim, on the row kernels of
// kernels/softmax.h, which want contiguous (rows, n) data with n along `dim`.
//
// x: (..., n) contiguous goes to the kernel as is. Any other dim d is moved last
// first, e.g. for d = 1 of x: (B, n, T) the kernel sees (B, T, n) as (B*T, n),
// and its result is permuted back into a contiguous (B, n, T).
#include "tensor/kernels/softmax.h"

#include <numeric>
#include <vector>

#include "tensor/ops.h"

namespace heed {
namespace {

// The permutation that moves dim d of a rank-r tensor last, and its inverse.
std::vector<int64_t> move_last(int64_t d, int64_t r) {
  std::vector<int64_t> p(r);
  std::iota(p.begin(), p.end(), 0);
  p.erase(p.begin() + d);
  p.push_back(d);
  return p;
}

std::vector<int64_t> inverse(const std::vector<int64_t>& p) {
  std::vector<int64_t> q(p.size());
  for (size_t i = 0; i < p.size(); ++i) q[p[i]] = static_cast<int64_t>(i);
  return q;
}

// Runs rows(x, mask, y, rows, n) over dim `dim` of x; mask (already x's shape)
// may be undefined.
template <class Rows>
Tensor along(const Tensor& x_in, const Tensor& mask_in, int64_t dim, const char* op, Rows&& rows) {
  // A 0-dim tensor is a single row of one element, like torch.
  const Tensor x = x_in.dim() == 0 ? reshape(x_in, {1}) : x_in;
  const int64_t d = wrap_dim(dim, x.dim(), op), n = x.size(d);
  if (x.numel() == 0) return empty(x_in.shape());
  const bool last = d == x.dim() - 1;
  const std::vector<int64_t> p = move_last(d, x.dim());
  auto prepare = [&](const Tensor& t) { return contiguous(last ? t : permute(t, p)); };
  const Tensor xs = prepare(x);
  const Tensor ms = mask_in.defined() ? prepare(mask_in) : Tensor();
  Tensor y = empty(xs.shape());
  rows(xs.data(), ms.defined() ? ms.data() : nullptr, y.data(), xs.numel() / n, n);
  if (!last) y = contiguous(permute(y, inverse(p)));
  return x_in.dim() == 0 ? reshape(y, {}) : y;
}

}  // namespace

// x: (..., n, ...)  ->  y of x's shape, each slice along dim summing to 1.
Tensor softmax(const Tensor& x, int64_t dim) {
  return along(x, Tensor(), dim, "softmax",
               [](const float* xs, const float*, float* y, int64_t r, int64_t n) {
                 kernels::softmax_rows(xs, y, r, n);
               });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return along(x, Tensor(), dim, "log_softmax",
               [](const float* xs, const float*, float* y, int64_t r, int64_t n) {
                 kernels::log_softmax_rows(xs, y, r, n);
               });
}

// mask broadcasts to x: (T, S) against scores (B, H, T, S), non-zero = hidden.
// An undefined mask hides nothing.
Tensor masked_softmax(const Tensor& x, const Tensor& mask, int64_t dim) {
  if (!mask.defined()) return softmax(x, dim);
  HEED_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_softmax") == x.shape(),
             "masked_softmax: mask of shape ", mask.shape(), " does not broadcast to x of shape ", x.shape());
  // The kernel reads the mask with x's row layout, so the broadcast is materialized.
  return along(x, expand(mask, x.shape()), dim, "masked_softmax",
               [](const float* xs, const float* m, float* y, int64_t r, int64_t n) {
                 kernels::masked_softmax_rows(xs, m, y, r, n);
               });
}

}  // namespace heed
