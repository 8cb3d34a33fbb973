// Tensor-level fused attention: checks the shapes, lays the problems out for
// the kernels (tensor/kernels/flash_attention.h) and allocates what they write.
#include "tensor/flash_attention.h"

#include <cmath>
#include <vector>

#include "tensor/kernels/flash_attention.h"
#include "tensor/ops.h"

namespace heed {
namespace {

struct Problems {
  Shape lead;     // the leading dims, (...)
  int64_t count;  // their product
  int64_t T, S, Dh, Dv;
};

Problems check(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
               const FlashAttentionOptions& o) {
  HEED_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), op, ": q ", q.shape(), ", k ",
             k.shape(), " and v ", v.shape(), " need the same number of dims, at least 2: (..., T, Dh)");
  Problems p{q.shape(), 1, q.size(-2), k.size(-2), q.size(-1), v.size(-1)};
  p.lead.pop_back();
  p.lead.pop_back();
  for (int64_t d = 0; d + 2 < q.dim(); ++d) {
    HEED_CHECK(k.size(d) == q.size(d) && v.size(d) == q.size(d), op, ": q ", q.shape(), ", k ", k.shape(),
               " and v ", v.shape(), " need the same leading dims");
    p.count *= q.size(d);
  }
  HEED_CHECK(k.size(-1) == p.Dh && v.size(-2) == p.S, op, ": q ", q.shape(), ", k ", k.shape(), " and v ",
             v.shape(), " need (..., T, Dh), (..., S, Dh) and (..., S, Dv)");
  HEED_CHECK(p.Dh > 0 && p.Dv > 0, op, ": q ", q.shape(), " and v ", v.shape(),
             " need head widths Dh and Dv of at least 1");
  if (o.key_padding.defined()) {
    const int64_t n = q.dim() > 2 ? q.size(0) : 1;
    HEED_CHECK(o.key_padding.shape() == Shape({n, p.S}), op, ": key_padding must be (", n, ", ", p.S,
               ") for q ", q.shape(), " and k ", k.shape(), ", got ", o.key_padding.shape());
  }
  HEED_CHECK(o.block_q >= 0 && o.block_k >= 0, op, ": tile sizes must be >= 1 (0: default), got ", o.block_q,
             " and ", o.block_k);
  return p;
}

// Unit stride along the rows, as the kernels read them.
Tensor rows_unit(const Tensor& t) { return t.stride(-1) == 1 ? t : contiguous(t); }

// Where each problem (a row-major index over the leading dims) starts in t.
template <class P>
std::vector<P> starts(const Tensor& t, const Problems& p) {
  std::vector<P> out(size_t(p.count));
  for (int64_t i = 0; i < p.count; ++i) {
    int64_t offset = 0, rest = i;
    for (int64_t d = int64_t(p.lead.size()) - 1; d >= 0; --d) {
      offset += (rest % p.lead[d]) * t.stride(d);
      rest /= p.lead[d];
    }
    out[size_t(i)] = t.data() + offset;
  }
  return out;
}

// (..., rows, cols); for 4-D a view of (B, rows, H, cols) memory, heads merged for free.
Tensor rows_out(const Problems& p, int64_t rows, int64_t cols) {
  if (p.lead.size() == 2) return transpose(empty({p.lead[0], rows, p.lead[1], cols}), 1, 2);
  Shape s = p.lead;
  s.push_back(rows), s.push_back(cols);
  return empty(s);
}

struct Layout {
  Tensor q, k, v, pad;
  std::vector<const float*> qp, kp, vp, padp;
  kernels::FlashAttentionArgs args;
};

Layout lay_out(const Tensor& q, const Tensor& k, const Tensor& v, const FlashAttentionOptions& o,
               const Problems& p) {
  Layout l{rows_unit(q), rows_unit(k), rows_unit(v), {}, {}, {}, {}, {}, {}};
  l.qp = starts<const float*>(l.q, p), l.kp = starts<const float*>(l.k, p),
  l.vp = starts<const float*>(l.v, p);
  auto& a = l.args;
  a.batch = p.count, a.t = p.T, a.s = p.S, a.dh = p.Dh, a.dv = p.Dv;
  a.scale = o.scale ? *o.scale : 1.0f / std::sqrt(float(p.Dh));
  a.left = o.left, a.right = o.right, a.block_q = o.block_q, a.block_k = o.block_k;
  a.q = l.qp.data(), a.k = l.kp.data(), a.v = l.vp.data();
  a.ldq = l.q.stride(-2), a.ldk = l.k.stride(-2), a.ldv = l.v.stride(-2);
  if (o.key_padding.defined()) {
    l.pad = contiguous(o.key_padding);
    const int64_t per_row = p.count / o.key_padding.size(0);  // the heads of one sequence share its row
    for (int64_t i = 0; i < p.count; ++i) l.padp.push_back(l.pad.data() + (i / per_row) * p.S);
    a.key_padding = l.padp.data();
  }
  return l;
}

}  // namespace

FlashAttentionResult flash_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const FlashAttentionOptions& options) {
  const Problems p = check("flash_attention", q, k, v, options);
  Shape lse_shape = p.lead;
  lse_shape.push_back(p.T);
  FlashAttentionResult r{rows_out(p, p.T, p.Dv), empty(lse_shape)};
  if (p.count == 0 || p.T == 0) return r;
  Layout l = lay_out(q, k, v, options, p);
  std::vector<float*> op = starts<float*>(r.output, p), lp = starts<float*>(r.lse, p);
  l.args.out = op.data(), l.args.ldo = r.output.stride(-2), l.args.lse = lp.data();
  kernels::flash_attention_forward(l.args);
  return r;
}

FlashAttentionGrads flash_attention_backward(const Tensor& grad_output, const Tensor& q, const Tensor& k,
                                             const Tensor& v, const Tensor& output, const Tensor& lse,
                                             const FlashAttentionOptions& options) {
  const Problems p = check("flash_attention_backward", q, k, v, options);
  Shape os = p.lead, ls = p.lead;
  os.push_back(p.T), os.push_back(p.Dv), ls.push_back(p.T);
  HEED_CHECK(grad_output.shape() == os && output.shape() == os && lse.shape() == ls,
             "flash_attention_backward: for q ", q.shape(), " and v ", v.shape(),
             " expected output and grad ", os, " and lse ", ls, ", got ", output.shape(), ", ",
             grad_output.shape(), " and ", lse.shape());
  FlashAttentionGrads g{rows_out(p, p.T, p.Dh), rows_out(p, p.S, p.Dh), rows_out(p, p.S, p.Dv)};
  if (p.count == 0) return g;
  if (p.T == 0) {  // no query: no gradient reaches k or v
    fill_(g.k, 0.0f), fill_(g.v, 0.0f);
    return g;
  }
  Layout l = lay_out(q, k, v, options, p);
  const Tensor go = rows_unit(grad_output), o = rows_unit(output), ln = contiguous(lse);
  std::vector<const float*> gop = starts<const float*>(go, p);
  std::vector<float*> oup = starts<float*>(o, p);
  std::vector<float*> lp(size_t(p.count)), dqp = starts<float*>(g.q, p), dkp = starts<float*>(g.k, p),
                                           dvp = starts<float*>(g.v, p);
  for (int64_t i = 0; i < p.count; ++i) lp[size_t(i)] = ln.data() + i * p.T;
  auto& a = l.args;
  a.out = oup.data(), a.ldo = o.stride(-2), a.lse = lp.data();
  a.dout = gop.data(), a.ld_dout = go.stride(-2);
  a.dq = dqp.data(), a.dk = dkp.data(), a.dvv = dvp.data();
  a.ld_dq = g.q.stride(-2), a.ld_dk = g.k.stride(-2), a.ld_dv = g.v.stride(-2);
  kernels::flash_attention_backward(a);
  return g;
}

}  // namespace heed
