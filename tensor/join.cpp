// Joining and splitting along a dim: cat and stack copy; split, chunk and unbind are views.
//
//   cat   [(2, 3), (4, 3)], dim 0   ->  (6, 3)
//   stack [(2, 3), (2, 3)], dim 0   ->  (2, 2, 3)
//   split (5, 3) by 2 along dim 0   ->  views (2, 3), (2, 3), (1, 3)
//   unbind (2, 3), dim 1            ->  views (2), (2), (2)
#include <algorithm>
#include <vector>

#include "tensor/ops.h"

namespace heed {

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  HEED_CHECK(!xs.empty(), "cat: expected at least one tensor");
  const Tensor& first = xs[0];
  HEED_CHECK(first.dim() > 0, "cat: cannot concatenate a 0-dim tensor (tensor 0); unsqueeze it or use stack");
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool fits = x.dim() == first.dim();
    for (int64_t j = 0; fits && j < x.dim(); ++j) fits = j == d || x.size(j) == first.size(j);
    HEED_CHECK(fits, "cat: tensor ", i, " has shape ", x.shape(), " but tensor 0 has shape ", first.shape(),
               "; sizes must match except in dim ", d);
    bool overflow = __builtin_add_overflow(shape[d], x.size(d), &shape[d]);  // expanded views can be huge
    HEED_CHECK(!overflow, "cat: the sizes along dim ", d, " add up past 2^63 - 1 at tensor ", i, " of shape ",
               x.shape());
  }
  Tensor out = detail::empty_for("cat", shape);
  int64_t at = 0;
  for (const Tensor& x : xs) {
    copy_(narrow(out, d, at, x.size(d)), x);
    at += x.size(d);
  }
  return out;
}

// Every x has one shape S; the result is S with a new dim of size xs.size() at dim.
Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  HEED_CHECK(!xs.empty(), "stack: expected at least one tensor");
  const Tensor& first = xs[0];
  const int64_t d = wrap_dim(dim, first.dim() + 1, "stack");
  for (size_t i = 0; i < xs.size(); ++i)
    HEED_CHECK(xs[i].shape() == first.shape(), "stack: tensor ", i, " has shape ", xs[i].shape(),
               " but tensor 0 has shape ", first.shape(), "; stack needs equal shapes");
  Shape shape = first.shape();
  shape.insert(d, static_cast<int64_t>(xs.size()));
  Tensor out = detail::empty_for("stack", shape);
  for (size_t i = 0; i < xs.size(); ++i) copy_(select(out, d, static_cast<int64_t>(i)), xs[i]);
  return out;
}

Tensor cat(std::initializer_list<Tensor> xs, int64_t dim) { return cat(std::vector<Tensor>(xs), dim); }
Tensor stack(std::initializer_list<Tensor> xs, int64_t dim) { return stack(std::vector<Tensor>(xs), dim); }

std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "split");
  const int64_t n = x.size(d);
  if (n == 0) return {x};  // like torch: one empty piece
  HEED_CHECK(size > 0, "split: size must be positive, got ", size);
  std::vector<Tensor> pieces;
  for (int64_t at = 0; at < n;) {  // not at += size: a huge size would overflow
    const int64_t length = std::min(size, n - at);
    pieces.push_back(narrow(x, d, at, length));
    at += length;
  }
  return pieces;
}

// torch.chunk: pieces of ceil(n / chunks), so there may be fewer than `chunks`
// (7 in 4 chunks is 2, 2, 2, 1; 6 in 4 chunks is 2, 2, 2).
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  HEED_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  const int64_t d = wrap_dim(dim, x.dim(), "chunk");
  const int64_t n = x.size(d);
  // Like torch, an empty dim gives `chunks` empty pieces.
  if (n == 0) return std::vector<Tensor>(static_cast<size_t>(chunks), x);
  return split(x, (n - 1) / chunks + 1, d);  // ceil(n / chunks), without n + chunks overflowing
}

std::vector<Tensor> unbind(const Tensor& x, int64_t dim) {
  const int64_t d = wrap_dim(dim, x.dim(), "unbind");
  std::vector<Tensor> pieces;
  pieces.reserve(static_cast<size_t>(x.size(d)));
  for (int64_t i = 0; i < x.size(d); ++i) pieces.push_back(select(x, d, i));
  return pieces;
}

}  // namespace heed
