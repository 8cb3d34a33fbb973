// Reference solutions to lesson 13's exercises (built with HEED_SOLUTIONS=ON).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lessons/13_efficient_attention/exercises.h"
#include "tensor/error.h"
#include "tensor/ops.h"

namespace heed::lesson13 {

Tensor sliding_window_mask(int64_t T, int64_t S, int64_t window, bool causal) {
  HEED_CHECK(window >= 1, "sliding_window_mask: the window must hold at least 1 key, got ", window);
  HEED_CHECK(T >= 0 && S >= T, "sliding_window_mask: ", T, " queries need at least as many keys, got ", S);
  const int64_t left = causal ? window - 1 : window / 2, right = causal ? 0 : (window - 1) / 2;
  Tensor mask = empty({T, S});
  for (int64_t i = 0; i < T; ++i) {
    const int64_t p = S - T + i;
    for (int64_t j = 0; j < S; ++j) mask.data()[i * S + j] = (j < p - left || j > p + right) ? 1.0f : 0.0f;
  }
  return mask;
}

Tensor causal_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, float eps) {
  HEED_CHECK(q.dim() == 2 && k.dim() == 2 && v.dim() == 2 && q.size(1) == k.size(1) &&
                 k.size(0) == v.size(0) && k.size(0) >= q.size(0),
             "causal_linear_attention: expected q (T, d), k (S, d), v (S, e) with S >= T, got ", q.shape(),
             ", ", k.shape(), " and ", v.shape());
  const int64_t T = q.size(0), S = k.size(0), d = q.size(1), e = v.size(1);
  const Tensor fq = contiguous(elu(q) + 1.0f), fk = contiguous(elu(k) + 1.0f), vc = contiguous(v);
  std::vector<double> kv(d * e, 0.0), z(d, 0.0);  // the running sums, in double
  Tensor out = zeros({T, e});
  for (int64_t p = 0; p < S; ++p) {
    const float* phi_k = fk.data() + p * d;
    const float* v_p = vc.data() + p * e;
    for (int64_t a = 0; a < d; ++a) {
      z[a] += phi_k[a];
      for (int64_t c = 0; c < e; ++c) kv[a * e + c] += double(phi_k[a]) * v_p[c];
    }
    const int64_t i = p - (S - T);  // the query at this position, if any
    if (i < 0) continue;
    const float* phi_q = fq.data() + i * d;
    double den = eps;
    for (int64_t a = 0; a < d; ++a) den += double(phi_q[a]) * z[a];
    for (int64_t c = 0; c < e; ++c) {
      double num = 0;
      for (int64_t a = 0; a < d; ++a) num += double(phi_q[a]) * kv[a * e + c];
      out.data()[i * e + c] = float(num / den);
    }
  }
  return out;
}

SoftmaxBlock softmax_block(const Tensor& scores, const Tensor& v) {
  HEED_CHECK(scores.dim() == 2 && v.dim() == 2 && scores.size(1) == v.size(0),
             "softmax_block: expected scores (T, n) and v (n, e), got ", scores.shape(), " and ", v.shape());
  const int64_t T = scores.size(0), n = scores.size(1), e = v.size(1);
  const Tensor s = contiguous(scores), vc = contiguous(v);
  SoftmaxBlock block{full({T}, -std::numeric_limits<float>::infinity()), zeros({T}), zeros({T, e})};
  for (int64_t i = 0; i < T; ++i) {
    const float* row = s.data() + i * n;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) m = std::max(m, row[j]);
    block.m.data()[i] = m;
    if (m == -std::numeric_limits<float>::infinity()) continue;  // nothing seen: l = 0, acc = 0
    float* acc = block.acc.data() + i * e;
    double l = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float p = std::exp(row[j] - m);  // in (0, 1]; 0 at a hidden key
      l += p;
      for (int64_t c = 0; c < e; ++c) acc[c] += p * vc.data()[j * e + c];
    }
    block.l.data()[i] = float(l);
  }
  return block;
}

SoftmaxBlock merge_blocks(const SoftmaxBlock& a, const SoftmaxBlock& b) {
  HEED_CHECK(a.m.shape() == b.m.shape() && a.acc.shape() == b.acc.shape() && a.l.shape() == a.m.shape(),
             "merge_blocks: blocks of different queries: m ", a.m.shape(), " and ", b.m.shape(), ", acc ",
             a.acc.shape(), " and ", b.acc.shape());
  const int64_t T = a.m.numel(), e = a.acc.size(1);
  const Tensor am = contiguous(a.m), al = contiguous(a.l), aacc = contiguous(a.acc);
  const Tensor bm = contiguous(b.m), bl = contiguous(b.l), bacc = contiguous(b.acc);
  SoftmaxBlock merged{empty({T}), empty({T}), empty({T, e})};
  for (int64_t i = 0; i < T; ++i) {
    const float m = std::max(am.data()[i], bm.data()[i]);
    // A block that saw nothing (m = -inf) weighs 0; never compute -inf - -inf.
    const float wa =
        am.data()[i] == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(am.data()[i] - m);
    const float wb =
        bm.data()[i] == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(bm.data()[i] - m);
    merged.m.data()[i] = m;
    merged.l.data()[i] = wa * al.data()[i] + wb * bl.data()[i];
    for (int64_t c = 0; c < e; ++c)
      merged.acc.data()[i * e + c] = wa * aacc.data()[i * e + c] + wb * bacc.data()[i * e + c];
  }
  return merged;
}

}  // namespace heed::lesson13
