#include "tensor/kernels/attention.h"

#include <vector>

#include "tensor/ops.h"

namespace heed {
namespace {

// The offset of every problem (an index of the leading dims, row-major) in a
// tensor whose leading dims have these sizes and strides (stride 0: broadcast).
std::vector<int64_t> problem_offsets(const Shape& lead, const std::vector<int64_t>& strides) {
  std::vector<int64_t> offsets{0};
  for (int64_t d = 0; d < int64_t(lead.size()); ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * lead[d]);
    for (int64_t base : offsets)
      for (int64_t i = 0; i < lead[d]; ++i) next.push_back(base + i * strides[d]);
    offsets = std::move(next);
  }
  return offsets;
}

// Unit stride along the rows, as the kernel reads them.
Tensor rows_unit(const Tensor& t) { return t.stride(-1) == 1 ? t : contiguous(t); }

std::vector<int64_t> lead_strides(const Tensor& t) {
  std::vector<int64_t> s;
  for (int64_t d = 0; d + 2 < t.dim(); ++d) s.push_back(t.size(d) == 1 ? 0 : t.stride(d));
  return s;
}

// The shapes attention's results take for these inputs, after its checks.
struct AttentionShapes {
  Shape lead, output, weights;
};

AttentionShapes attention_shapes(const Tensor& q, const Tensor& k, const Tensor& v) {
  HEED_CHECK(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), "attention: q ", q.shape(), ", k ",
             k.shape(), " and v ", v.shape(), " need the same number of dims, at least 2: (..., T, Dh)");
  Shape lead = q.shape();
  lead.pop_back();
  lead.pop_back();
  for (int64_t d = 0; d + 2 < q.dim(); ++d)
    HEED_CHECK(k.size(d) == q.size(d) && v.size(d) == q.size(d), "attention: q ", q.shape(), ", k ",
               k.shape(), " and v ", v.shape(), " need the same leading dims");
  const int64_t T = q.size(-2), S = k.size(-2), Dh = q.size(-1), Dv = v.size(-1);
  HEED_CHECK(k.size(-1) == Dh && v.size(-2) == S, "attention: q ", q.shape(), ", k ", k.shape(), " and v ",
             v.shape(), " need (..., T, Dh), (..., S, Dh) and (..., S, Dv)");
  AttentionShapes shapes{lead, lead, lead};
  shapes.output.push_back(T), shapes.output.push_back(Dv);
  shapes.weights.push_back(T), shapes.weights.push_back(S);
  return shapes;
}

}  // namespace

AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                          float scale) {
  const AttentionShapes shapes = attention_shapes(q, k, v);
  // Four dims are (B, H, T, Dh) heads: the output is laid out (B, T, H, Dv) and
  // seen as (B, H, T, Dv), so merging the heads back (transpose, reshape to
  // (B, T, H*Dv)) moves nothing.
  const Shape& o = shapes.output;
  AttentionResult r{q.dim() == 4 ? transpose(empty({o[0], o[2], o[1], o[3]}), 1, 2) : empty(o),
                    empty(shapes.weights)};
  attention_into(q, k, v, mask, scale, r);
  return r;
}

void attention_into(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, float scale,
                    const AttentionResult& into) {
  const AttentionShapes shapes = attention_shapes(q, k, v);
  const Shape& lead = shapes.lead;
  const int64_t T = q.size(-2), S = k.size(-2), Dv = v.size(-1);
  const Tensor &out = into.output, &weights = into.weights;
  HEED_CHECK(out.shape() == shapes.output && weights.shape() == shapes.weights,
             "attention: results of shapes ", out.shape(), " and ", weights.shape(), " given for an output ",
             shapes.output, " and weights ", shapes.weights);
  HEED_CHECK(
      (out.numel() == 0 || out.size(-1) == 1 || out.stride(-1) == 1) &&
          (weights.numel() == 0 ||
           ((S == 1 || weights.stride(-1) == 1) && (T == 1 || weights.stride(-2) == S))),
      "attention: the output needs rows of unit stride and the weights whole (T, S) planes; got strides ",
      out.strides(), " and ", weights.strides());
  if (weights.numel() == 0 || out.numel() == 0) {
    if (out.numel() > 0) fill_(out, 0.0f);  // no keys: nothing to attend to
    return;
  }
  Tensor qs = rows_unit(q), ku = rows_unit(k), vu = rows_unit(v);

  // The mask gets its (T, S) planes laid out; its leading dims stay as given
  // (a (B, 1, 1, S) padding mask is B planes, not B * H).
  Tensor m;
  std::vector<int64_t> m_offsets;
  if (mask.defined()) {
    HEED_CHECK(broadcast_shapes(mask.shape(), shapes.weights, "attention") == shapes.weights,
               "attention: mask of shape ", mask.shape(), " does not broadcast to the weights' shape ",
               shapes.weights);
    Shape planes(std::vector<int64_t>(lead.size(), 1));
    for (int64_t d = 0; d + 2 < mask.dim(); ++d) planes[lead.size() - (mask.dim() - 2) + d] = mask.size(d);
    Shape full_planes = planes;
    full_planes.push_back(T), full_planes.push_back(S);
    m = contiguous(expand(mask, full_planes));
    std::vector<int64_t> strides;
    for (int64_t d = 0; d < int64_t(lead.size()); ++d) strides.push_back(planes[d] == 1 ? 0 : m.stride(d));
    m_offsets = problem_offsets(lead, strides);
  }

  const std::vector<int64_t> qo = problem_offsets(lead, lead_strides(qs)),
                             ko = problem_offsets(lead, lead_strides(ku)),
                             vo = problem_offsets(lead, lead_strides(vu)),
                             oo = problem_offsets(lead, lead_strides(out)),
                             wo = problem_offsets(lead, lead_strides(weights));
  const int64_t batch = int64_t(qo.size());
  std::vector<const float*> qp(batch), kp(batch), vp(batch), mp(mask.defined() ? batch : 0);
  std::vector<float*> wp(batch), op(batch);
  for (int64_t i = 0; i < batch; ++i) {
    qp[i] = qs.data() + qo[i];
    kp[i] = ku.data() + ko[i];
    vp[i] = vu.data() + vo[i];
    if (mask.defined()) mp[i] = m.data() + m_offsets[i];
    wp[i] = weights.data() + wo[i];
    op[i] = out.data() + oo[i];
  }
  kernels::AttentionArgs args{.batch = batch, .t = T, .s = S, .dh = q.size(-1), .dv = Dv, .scale = scale};
  args.q = qp.data(), args.k = kp.data(), args.v = vp.data();
  args.ldq = qs.stride(-2), args.ldk = ku.stride(-2), args.ldv = vu.stride(-2);
  args.mask = mask.defined() ? mp.data() : nullptr;
  args.weights = wp.data(), args.out = op.data(), args.ldo = out.stride(-2);
  kernels::attention_forward(args);
}

}  // namespace heed
