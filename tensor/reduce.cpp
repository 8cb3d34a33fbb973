// Reductions: sum, mean, var, amax, max/argmax, sum_to, and the allclose/equal
// helpers.
//
// Every reduction first sees x as a contiguous (A, R, B) block: the reduced dims
// merged into R, the kept dims before and after them into A and B, so out is
// (A, B). When the reduced dims are not adjacent (say dims 0 and 2 of a 3-D x),
// or x is not contiguous, x is copied once into that order. Then:
//   B == 1  each output is a contiguous run of R values ("rows");
//   B > 1   each of R rows of B values is added into B accumulators ("columns"),
//           the loop the compiler vectorizes across B.
//
// Determinism: threads split the outputs (rows, or chunks of columns), never
// one output's reduction, except for a single output (A = B = 1), whose fixed
// kBlock-element blocks are reduced in parallel and combined in order. The
// arithmetic is the same for any thread count, so results are bitwise equal.
//
// Accuracy: a float accumulator never adds more than kBlock / kLanes = 128
// values; partial sums are then added in double. A float sum of 1e7 values
// lands within about one ulp of the exact sum (naive float addition: ~1000 ulp).
//
// NaN: sum and mean propagate it; amax and max return NaN when the reduced
// values hold one, and max's index is that of the first NaN (as torch.max).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/ops.h"

namespace heed {
namespace {

constexpr int64_t kBlock = 4096;  // fixed, so results never depend on the thread count
constexpr int kLanes = 32;        // float accumulators per row: four AVX2 or two AVX-512 registers
constexpr int64_t kRowsPerFlush = kBlock / kLanes;
constexpr int64_t kMaxCols = 1024;  // columns one task accumulates (B > 1)
constexpr int64_t kGrain = 32768;   // elements of work that pay for waking a thread

// ------------------------------------------------------------- the (A, R, B) plan
struct Plan {
  Tensor x;  // contiguous, read as (A, R, B)
  int64_t A = 1, R = 1, B = 1;
  Shape out_shape;
};

// x in row-major order: x itself, or a copy whose allocation errors name `op`
// (a reduction over a big expanded view copies it: sum over (2^23, 2^22) of
// one float asks for 128 TiB, and says so).
Tensor row_major(const Tensor& x, const char* op) {
  if (x.is_contiguous()) return x;
  Tensor c = detail::empty_for(op, x.shape());
  copy_(c, x);
  return c;
}

Plan make_plan(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* op) {
  HEED_CHECK(x.defined(), op, ": the tensor is undefined");
  int64_t rank = x.dim();
  std::array<bool, Shape::kMaxDims> reduced{};
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, std::max<int64_t>(rank, 1), op);  // dim 0 / -1 of a scalar is the scalar
    HEED_CHECK(rank == 0 || !reduced[w], op, ": dim ", d, " appears twice in the dims to reduce");
    if (rank > 0) reduced[w] = true;
  }
  if (dims.empty()) reduced.fill(true);

  Plan p;
  int64_t first = rank, last = -1;  // the span of reduced dims that matter (size != 1)
  for (int64_t d = 0; d < rank; ++d) {
    if (reduced[d]) {
      if (keepdim) p.out_shape.push_back(1);
      if (x.size(d) != 1) first = std::min(first, d), last = d;
    } else {
      p.out_shape.push_back(x.size(d));
    }
  }
  bool adjacent = true;
  for (int64_t d = first + 1; d < last; ++d) adjacent = adjacent && (reduced[d] || x.size(d) == 1);

  if (adjacent) {
    p.x = row_major(x, op);
    for (int64_t d = 0; d < rank; ++d) (reduced[d] ? p.R : d < first ? p.A : p.B) *= x.size(d);
  } else {  // kept dims first, reduced dims last: one copy makes them (A, R, 1)
    std::vector<int64_t> order;
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t d = 0; d < rank; ++d)
        if (reduced[d] == (pass == 1)) {
          order.push_back(d);
          (pass ? p.R : p.A) *= x.size(d);
        }
    p.x = row_major(permute(x, order), op);
  }
  return p;
}

// Columns per task when B > 1: wide, so each row segment read is long and
// contiguous (the prefetcher stops at every 4 KiB page), but narrow enough to
// give every thread work. Columns are independent, so this choice never
// changes a result.
int64_t chunk_cols(int64_t A, int64_t B) {
  int64_t per_a = std::max<int64_t>(1, (num_threads() + A - 1) / A);
  int64_t cols = std::max<int64_t>(64, (B + per_a - 1) / per_a);
  return std::min(kMaxCols, (cols + 15) / 16 * 16);
}

// Calls task(i) for i in [0, n), several per thread when each costs `work` elements.
template <class Task>
void parallel_tasks(int64_t n, int64_t work, Task task) {
  kernels::parallel_for(n, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work)),
                        [&](int64_t begin, int64_t end) {
                          for (int64_t i = begin; i < end; ++i) task(i);
                        });
}

// ------------------------------------------------------------- sum
// Sum of p[0, n), n <= kBlock: kLanes independent float accumulators (a
// fixed-size inner loop the compiler maps onto SIMD registers), added pairwise.
float block_sum(const float* p, int64_t n) {
  float lane[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lane[k] += p[i + k];
  for (int k = 0; i < n; ++i, ++k) lane[k] += p[i];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int k = 0; k < w; ++k) lane[k] += lane[k + w];
  return lane[0];
}

double row_sum(const float* p, int64_t n) {
  double total = 0.0;
  for (int64_t b = 0; b < n; b += kBlock) total += block_sum(p + b, std::min(kBlock, n - b));
  return total;
}

// out (A, B) = sum over R of x (A, R, B), divided by `divisor` (1, or R for a mean).
Tensor sum_plan(const Plan& p, double divisor) {
  Tensor out = empty(p.out_shape);
  const float* x = p.x.data();
  float* y = out.data();
  int64_t A = p.A, R = p.R, B = p.B;
  if (out.numel() == 0) return out;
  if (B == 1 && A == 1) {  // one output: blocks in parallel, added in order
    int64_t blocks = (R + kBlock - 1) / kBlock;
    std::vector<double> partial(blocks);
    parallel_tasks(blocks, kBlock, [&](int64_t b) {
      partial[b] = block_sum(x + b * kBlock, std::min(kBlock, R - b * kBlock));
    });
    double total = 0.0;
    for (double s : partial) total += s;  // the same order row_sum adds them in
    y[0] = static_cast<float>(total / divisor);
  } else if (B == 1) {
    parallel_tasks(A, R, [&](int64_t a) { y[a] = static_cast<float>(row_sum(x + a * R, R) / divisor); });
  } else {
    int64_t cols = chunk_cols(A, B), chunks = (B + cols - 1) / cols;
    parallel_tasks(A * chunks, R * std::min(B, cols), [&](int64_t task) {
      int64_t a = task / chunks, c0 = task % chunks * cols, n = std::min(cols, B - c0);
      float part[kMaxCols];
      double total[kMaxCols] = {};
      const float* base = x + a * R * B + c0;
      for (int64_t r0 = 0; r0 < R; r0 += kRowsPerFlush) {
        std::fill_n(part, n, 0.0f);
        for (int64_t r = r0; r < std::min(R, r0 + kRowsPerFlush); ++r)
          for (int64_t c = 0; c < n; ++c) part[c] += base[r * B + c];
        for (int64_t c = 0; c < n; ++c) total[c] += part[c];
      }
      for (int64_t c = 0; c < n; ++c) y[a * B + c0 + c] = static_cast<float>(total[c] / divisor);
    });
  }
  return out;
}

// ------------------------------------------------------------- max
// v replaces the best so far when strictly larger (the first maximum wins), or
// when it is the first NaN (NaN then stays).
inline bool better(float v, float best) { return v > best || (v != v && best == best); }

// The largest of p[0, n), n >= 1 (NaN if one is NaN): kLanes independent
// maxima, which the compiler turns into vector compare-and-blend.
float row_max(const float* p, int64_t n) {
  float lane[kLanes];
  std::fill_n(lane, kLanes, p[0]);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) lane[k] = better(p[i + k], lane[k]) ? p[i + k] : lane[k];
  for (; i < n; ++i) lane[0] = better(p[i], lane[0]) ? p[i] : lane[0];
  float best = lane[0];
  for (int k = 1; k < kLanes; ++k)
    if (better(lane[k], best)) best = lane[k];
  return best;
}

// The first index of `best` in p[0, n) (of the first NaN when best is NaN).
int64_t first_index(const float* p, int64_t n, float best) {
  int64_t i = 0;
  while (i + 1 < n && !(p[i] == best || (best != best && p[i] != p[i]))) ++i;
  return i;
}

// values (A, B) = max over R of x (A, R, B); indices (A, B) the r of each, when asked.
void max_plan(const Plan& p, const char* op, const Shape& in_shape, Tensor& values, Tensor* indices) {
  values = empty(p.out_shape);
  if (indices) *indices = empty(p.out_shape);
  if (values.numel() == 0) return;
  HEED_CHECK(p.R > 0, op, ": cannot reduce over zero elements (shape ", in_shape, ")");
  const float* x = p.x.data();
  float* v = values.data();
  float* ix = indices ? indices->data() : nullptr;
  int64_t A = p.A, R = p.R, B = p.B;
  if (B == 1 && A == 1) {
    int64_t blocks = (R + kBlock - 1) / kBlock;
    std::vector<float> partial(blocks);
    parallel_tasks(blocks, kBlock, [&](int64_t b) {
      partial[b] = row_max(x + b * kBlock, std::min(kBlock, R - b * kBlock));
    });
    v[0] = partial[0];
    for (float b : partial)
      if (better(b, v[0])) v[0] = b;
    if (ix) ix[0] = static_cast<float>(first_index(x, R, v[0]));
  } else if (B == 1) {
    parallel_tasks(A, R, [&](int64_t a) {
      v[a] = row_max(x + a * R, R);
      if (ix) ix[a] = static_cast<float>(first_index(x + a * R, R, v[a]));
    });
  } else {
    int64_t cols = chunk_cols(A, B), chunks = (B + cols - 1) / cols;
    parallel_tasks(A * chunks, R * std::min(B, cols), [&](int64_t task) {
      int64_t a = task / chunks, c0 = task % chunks * cols, n = std::min(cols, B - c0);
      float best[kMaxCols];
      float at[kMaxCols] = {};
      const float* base = x + a * R * B + c0;
      std::copy_n(base, n, best);
      for (int64_t r = 1; r < R; ++r)
        for (int64_t c = 0; c < n; ++c)
          if (better(base[r * B + c], best[c])) best[c] = base[r * B + c], at[c] = static_cast<float>(r);
      std::copy_n(best, n, v + a * B + c0);
      if (ix) std::copy_n(at, n, ix + a * B + c0);
    });
  }
}

}  // namespace

// ------------------------------------------------------------- public
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return sum_plan(make_plan(x, dims, keepdim, "sum"), 1.0);
}

// Over zero elements: 0 / 0 = NaN, as PyTorch.
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Plan p = make_plan(x, dims, keepdim, "mean");
  return sum_plan(p, static_cast<double>(p.R));
}

// Two passes: the mean, then the mean square deviation from it (no cancellation
// of E[x^2] - E[x]^2). N - 1 <= 0 gives 0 / 0 = NaN, as PyTorch.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  Plan p = make_plan(x, dims, /*keepdim=*/true, "var");
  Tensor d = x - sum_plan(p, static_cast<double>(p.R));
  Plan sq = make_plan(d * d, dims, keepdim, "var");
  return sum_plan(sq, static_cast<double>(std::max<int64_t>(p.R - (unbiased ? 1 : 0), 0)));
}

Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor values;
  max_plan(make_plan(x, dims, keepdim, "amax"), "amax", x.shape(), values, nullptr);
  return values;
}

MaxResult max(const Tensor& x, int64_t dim, bool keepdim) {
  MaxResult r;
  max_plan(make_plan(x, {dim}, keepdim, "max"), "max", x.shape(), r.values, &r.indices);
  return r;
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  MaxResult r;
  max_plan(make_plan(x, {dim}, keepdim, "argmax"), "argmax", x.shape(), r.values, &r.indices);
  return r.indices;
}

// x: (..., leading extra dims, sizes equal to shape's or broadcast from its 1s) -> shape
Tensor sum_to(const Tensor& x, const Shape& shape) {
  HEED_CHECK(x.defined(), "sum_to: the tensor is undefined");
  int64_t lead = x.dim() - shape.size();
  bool ok = lead >= 0;
  std::vector<int64_t> dims;
  for (int64_t d = 0; ok && d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] != x.size(d)) {
      ok = shape[d - lead] == 1;
      dims.push_back(d);
    }
  }
  HEED_CHECK(ok, "sum_to: cannot sum ", x.shape(), " down to ", shape, ": ", shape, " does not broadcast to ",
             x.shape());
  if (dims.empty()) return clone(x);
  return view(sum(x, dims, /*keepdim=*/true), shape);
}

bool allclose(const Tensor& a, const Tensor& b, float rtol, float atol) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (!(a.shape() == b.shape())) return false;
  Tensor ca = contiguous(a), cb = contiguous(b);
  for (int64_t i = 0; i < ca.numel(); ++i) {
    float x = ca.data()[i], y = cb.data()[i];
    if (x == y || (x != x && y != y)) continue;  // equal infinities, or both NaN
    if (std::isinf(x) || std::isinf(y)) return false;
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  if (!(a.shape() == b.shape())) return false;
  Tensor ca = contiguous(a), cb = contiguous(b);
  return ca.numel() == 0 || std::memcmp(ca.data(), cb.data(), ca.numel() * sizeof(float)) == 0;
}

}  // namespace heed
