#include "tensor/kernels/attention.h"

#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/sgemm.h"
#include "tensor/kernels/softmax.h"

namespace heed::kernels {

// The softmax rows called from inside parallel_for run on the calling thread
// (OpenMP regions do not nest), as the products do, so each problem is one thread's.
void attention_forward(const AttentionArgs& a) {
  parallel_for(a.batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scaled(size_t(a.t * a.dh));  // this thread's scale Q: (t, dh)
    for (int64_t i = begin; i < end; ++i) {
      // Through locals: stores to `scaled` could alias a's fields, which would
      // then be reloaded every element, and the loop would not vectorize.
      const float* __restrict q = a.q[i];
      float* __restrict sq = scaled.data();
      const int64_t dh = a.dh, ldq = a.ldq;
      const float scale = a.scale;
      for (int64_t r = 0; r < a.t; ++r)
        for (int64_t j = 0; j < dh; ++j) sq[r * dh + j] = q[r * ldq + j] * scale;
      GemmArgs scores;  // (t, s) = scale Q (t, dh) · Kᵀ, K stored (s, dh)
      scores.trans_b = true;
      scores.m = a.t, scores.n = a.s, scores.k = a.dh;
      scores.a = scaled.data(), scores.lda = a.dh;
      scores.b = a.k[i], scores.ldb = a.ldk;
      scores.c = a.weights[i], scores.ldc = a.s;
      sgemm_this_thread(scores);
      if (a.mask)
        masked_softmax_rows(a.weights[i], a.mask[i], a.weights[i], a.t, a.s);
      else
        softmax_rows(a.weights[i], a.weights[i], a.t, a.s);
      GemmArgs out;  // (t, dv) = weights (t, s) · V (s, dv)
      out.m = a.t, out.n = a.dv, out.k = a.s;
      out.a = a.weights[i], out.lda = a.s;
      out.b = a.v[i], out.ldb = a.ldv;
      out.c = a.out[i], out.ldc = a.ldo;
      sgemm_this_thread(out);
    }
  });
}

}  // namespace heed::kernels
