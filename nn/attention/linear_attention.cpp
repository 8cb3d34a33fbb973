#include "nn/attention/linear_attention.h"

#include <algorithm>
#include <vector>

#include "nn/attention/multi_head.h"

namespace heed::nn {
namespace {

Shape leading(const Shape& s) { return Shape(std::vector<int64_t>(s.begin(), s.end() - 2)); }

// One (batch, head) of the causal recurrence, forward in time, from the state
// (kv: (d, e), z: (d)) it is given, which it leaves at the last position.
//   fq: (T, d)  fk: (S, d)  v: (S, e)  ->  out: (T, e); query i is at position S - T + i.
// With g (d loss / d out, (T, e)) it is also the first sweep of the backward: it
// recomputes out exactly as the forward did and writes, for every query,
//   dnum_i = g_i / den_i  (e)    dden_i = -(g_i . out_i) / den_i    dfq_i = S_i dnum_i + dden_i z_i  (d)
void sweep_forward(const float* fq, const float* fk, const float* v, float* kv, float* z, float* out,
                   int64_t T, int64_t S, int64_t d, int64_t e, float eps, const float* g = nullptr,
                   float* dfq = nullptr, float* dnum = nullptr, float* dden = nullptr) {
  for (int64_t j = 0; j < S; ++j) {
    const float* __restrict kj = fk + j * d;
    const float* __restrict vj = v + j * e;
    const int64_t i = j - (S - T);  // the query at position j, if any
    if (i < 0) {                    // a key before the first query: state only
      for (int64_t a = 0; a < d; ++a) {
        float* __restrict row = kv + a * e;
        for (int64_t c = 0; c < e; ++c) row[c] += kj[a] * vj[c];
        z[a] += kj[a];
      }
      continue;
    }
    const float* __restrict qi = fq + i * d;
    float* __restrict oi = out + i * e;
    std::fill(oi, oi + e, 0.0f);
    float den = eps;
    for (int64_t a = 0; a < d; ++a) {  // S_i = S_{i-1} + k_j v_j^T and num_i = S_i^T q_i in one pass
      float* __restrict row = kv + a * e;
      for (int64_t c = 0; c < e; ++c) {
        row[c] += kj[a] * vj[c];
        oi[c] += qi[a] * row[c];
      }
      z[a] += kj[a];
      den += qi[a] * z[a];
    }
    const float inv = 1.0f / den;
    for (int64_t c = 0; c < e; ++c) oi[c] *= inv;
    if (!g) continue;
    const float* __restrict gi = g + i * e;
    float* __restrict dn = dnum + i * e;
    float go = 0.0f;
    for (int64_t c = 0; c < e; ++c) {
      dn[c] = gi[c] * inv;
      go += gi[c] * oi[c];
    }
    dden[i] = -go * inv;
    for (int64_t a = 0; a < d; ++a) {
      const float* __restrict row = kv + a * e;
      float s = dden[i] * z[a];
      for (int64_t c = 0; c < e; ++c) s += row[c] * dn[c];
      dfq[i * d + a] = s;
    }
  }
}

// The backward's second sweep, backward in time: R_j = sum over queries at
// positions >= j of fq_i dnum_i^T (d, e), r_j the same of dden_i fq_i (d), and
//   dfk_j = R_j v_j + r_j  (d)    dv_j = R_j^T fk_j  (e)
void sweep_backward(const float* fq, const float* fk, const float* v, const float* dnum, const float* dden,
                    float* dfk, float* dv, float* R, float* r, int64_t T, int64_t S, int64_t d, int64_t e) {
  for (int64_t j = S - 1; j >= 0; --j) {
    const float* __restrict kj = fk + j * d;
    const float* __restrict vj = v + j * e;
    float* __restrict dvj = dv + j * e;
    const int64_t i = j - (S - T);
    const float* __restrict qi = i >= 0 ? fq + i * d : nullptr;
    const float* __restrict dn = i >= 0 ? dnum + i * e : nullptr;
    std::fill(dvj, dvj + e, 0.0f);
    for (int64_t a = 0; a < d; ++a) {
      float* __restrict row = R + a * e;
      if (qi) {
        for (int64_t c = 0; c < e; ++c) row[c] += qi[a] * dn[c];
        r[a] += dden[i] * qi[a];
      }
      float s = r[a];
      for (int64_t c = 0; c < e; ++c) {
        s += row[c] * vj[c];
        dvj[c] += kj[a] * row[c];
      }
      dfk[j * d + a] = s;
    }
  }
}

void check_causal(const char* op, const Tensor& fq, const Tensor& fk, const Tensor& v) {
  HEED_CHECK(fq.dim() >= 2 && fk.dim() == fq.dim() && v.dim() == fq.dim() &&
                 leading(fq.shape()) == leading(fk.shape()) && leading(fq.shape()) == leading(v.shape()) &&
                 fq.size(-1) == fk.size(-1) && fk.size(-2) == v.size(-2) && fk.size(-2) >= fq.size(-2),
             op,
             ": expected queries (..., T, d), keys (..., S, d) and values (..., S, e) with the same leading "
             "dims and S >= T, got ",
             fq.shape(), ", ", fk.shape(), " and ", v.shape());
}

}  // namespace

Variable elu_feature_map(const Variable& x) { return elu(x) + 1.0f; }

// fq: (N.., T, d)  fk: (N.., S, d)  v: (N.., S, e)  ->  (N.., T, e), each of the N
// (batch, head) slices its own recurrence. The backward recomputes the state.
Variable causal_linear_attention(const Variable& fq_in, const Variable& fk_in, const Variable& v_in,
                                 float eps) {
  check_causal("causal_linear_attention", fq_in.value(), fk_in.value(), v_in.value());
  const Tensor fq = contiguous(fq_in.value()), fk = contiguous(fk_in.value()), v = contiguous(v_in.value());
  const int64_t T = fq.size(-2), S = fk.size(-2), d = fq.size(-1), e = v.size(-1);
  const int64_t batches = leading(fq.shape()).numel();
  Shape out_shape = leading(fq.shape());
  std::vector<int64_t> dims(out_shape.begin(), out_shape.end());
  dims.push_back(T);
  dims.push_back(e);
  Tensor out = empty(Shape(dims));
  std::vector<float> kv(d * e), z(d);
  for (int64_t n = 0; n < batches; ++n) {
    std::fill(kv.begin(), kv.end(), 0.0f);
    std::fill(z.begin(), z.end(), 0.0f);
    sweep_forward(fq.data() + n * T * d, fk.data() + n * S * d, v.data() + n * S * e, kv.data(), z.data(),
                  out.data() + n * T * e, T, S, d, e, eps);
  }
  return record("causal_linear_attention", out, {fq_in, fk_in, v_in},
                [fq = Saved(fq, "its input 0"), fk = Saved(fk, "its input 1"), v = Saved(v, "its input 2"), T,
                 S, d, e, batches, eps](const Tensor& grad) {
                  const Tensor g = contiguous(grad);
                  const Tensor& q = fq.get();
                  const Tensor& k = fk.get();
                  const Tensor& val = v.get();
                  Tensor dq = empty(q.shape()), dk = empty(k.shape()), dv = empty(val.shape());
                  std::vector<float> state(d * e), z(d), out(T * e), dnum(T * e), dden(T);
                  for (int64_t n = 0; n < batches; ++n) {
                    const float *qn = q.data() + n * T * d, *kn = k.data() + n * S * d,
                                *vn = val.data() + n * S * e;
                    std::fill(state.begin(), state.end(), 0.0f);
                    std::fill(z.begin(), z.end(), 0.0f);
                    sweep_forward(qn, kn, vn, state.data(), z.data(), out.data(), T, S, d, e, eps,
                                  g.data() + n * T * e, dq.data() + n * T * d, dnum.data(), dden.data());
                    std::fill(state.begin(), state.end(), 0.0f);  // now R
                    std::fill(z.begin(), z.end(), 0.0f);          // now r
                    sweep_backward(qn, kn, vn, dnum.data(), dden.data(), dk.data() + n * S * d,
                                   dv.data() + n * S * e, state.data(), z.data(), T, S, d, e);
                  }
                  return Grads{dq, dk, dv};
                });
}

Variable linear_attention(const Variable& q, const Variable& k, const Variable& v, bool causal,
                          const Tensor& key_padding, float eps) {
  HEED_CHECK(
      q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2 && q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2),
      "linear_attention: expected queries (..., T, d), keys (..., S, d) and values (..., S, e), got ",
      q.shape(), ", ", k.shape(), " and ", v.shape());
  Variable fq = elu_feature_map(q), fk = elu_feature_map(k);  // (..., T, d), (..., S, d)
  if (key_padding.defined()) {
    HEED_CHECK(key_padding.dim() >= 1 && key_padding.size(-1) == k.size(-2),
               "linear_attention: key_padding of shape ", key_padding.shape(), " does not match the ",
               k.size(-2), " keys of ", k.shape());
    fk = fk * unsqueeze(eq(key_padding, scalar(0.0f)), -1);  // a hidden key's features are 0
  }
  if (causal) return causal_linear_attention(fq, fk, v, eps);
  Variable kv = matmul(transpose(fk, -2, -1), v);            // (..., d, S)(..., S, e) -> (..., d, e)
  Variable z = sum(fk, {-2}, /*keepdim=*/true);              // (..., 1, d)
  Variable den = sum(fq * z, {-1}, /*keepdim=*/true) + eps;  // (..., T, 1)
  return matmul(fq, kv) / den;                               // (..., T, d)(..., d, e) -> (..., T, e)
}

Tensor linear_attention_step(LinearAttentionState& state, const Tensor& q, const Tensor& k, const Tensor& v,
                             float eps) {
  check_causal("linear_attention_step", q, k, v);
  HEED_CHECK(q.size(-2) == k.size(-2), "linear_attention_step: the new queries ", q.shape(), " and keys ",
             k.shape(), " must be the same positions");
  NoGradGuard no_grad;
  const Tensor fq = contiguous(elu_feature_map(q).value()), fk = contiguous(elu_feature_map(k).value());
  const Tensor vc = contiguous(v);
  const int64_t n_new = q.size(-2), d = q.size(-1), e = v.size(-1);
  Shape lead = leading(q.shape());
  std::vector<int64_t> kv_dims(lead.begin(), lead.end()), z_dims(lead.begin(), lead.end());
  kv_dims.push_back(d);
  kv_dims.push_back(e);
  z_dims.push_back(d);
  if (!state.kv.defined()) {
    state.kv = zeros(Shape(kv_dims));
    state.z = zeros(Shape(z_dims));
    state.length = 0;
  }
  HEED_CHECK(state.kv.shape() == Shape(kv_dims) && state.z.shape() == Shape(z_dims),
             "linear_attention_step: a state of shape ", state.kv.shape(), " cannot take queries ", q.shape(),
             " and values ", v.shape());
  // The state is replaced, not written in place: a caller may still hold the old one.
  Tensor kv = clone(state.kv), z = clone(state.z);
  std::vector<int64_t> out_dims(lead.begin(), lead.end());
  out_dims.push_back(n_new);
  out_dims.push_back(e);
  Tensor out = empty(Shape(out_dims));
  for (int64_t n = 0; n < lead.numel(); ++n)
    sweep_forward(fq.data() + n * n_new * d, fk.data() + n * n_new * d, vc.data() + n * n_new * e,
                  kv.data() + n * d * e, z.data() + n * d, out.data() + n * n_new * e, n_new, n_new, d, e,
                  eps);
  state.kv = kv;
  state.z = z;
  state.length += n_new;
  return out;
}

// ------------------------------------------------------------- the module
LinearAttention::LinearAttention(const LinearAttentionOptions& options)
    : Module("LinearAttention"), options_(options) {
  Generator gen = generator_from(options.seed);
  build(gen);
}

LinearAttention::LinearAttention(const LinearAttentionOptions& options, Generator& gen)
    : Module("LinearAttention"), options_(options) {
  build(gen);
}

void LinearAttention::build(Generator& gen) {
  const int64_t D = options_.embed_dim, H = options_.num_heads;
  HEED_CHECK(D > 0 && H > 0 && D % H == 0, "LinearAttention: embed_dim ", D, " must split into num_heads ", H,
             " equal heads (embed_dim % num_heads == 0)");
  auto projection = [&](const char* name) {
    return register_module(
        name, std::make_shared<Linear>(
                  LinearOptions{.in_features = D, .out_features = D, .bias = options_.bias}, gen));
  };
  q_proj = projection("q_proj");
  k_proj = projection("k_proj");
  v_proj = projection("v_proj");
  out_proj = projection("out_proj");
}

Variable LinearAttention::forward(const Variable& query, const Variable& key, const Variable& value,
                                  const Tensor& key_padding) {
  const int64_t D = options_.embed_dim, H = options_.num_heads;
  HEED_CHECK(query.dim() == 3 && query.size(2) == D && key.dim() == 3 && key.size(0) == query.size(0) &&
                 key.size(2) == D && value.shape() == key.shape(),
             describe(), ": expected query (B, T, ", D, ") and key, value (B, S, ", D, "), got ",
             query.shape(), ", ", key.shape(), " and ", value.shape());
  const int64_t B = query.size(0), S = key.size(1);
  Tensor padding;
  if (key_padding.defined()) {
    HEED_CHECK(key_padding.shape() == Shape({B, S}), describe(), ": key_padding mask must be (B, S) = (", B,
               ", ", S, "), got ", key_padding.shape());
    padding = view(key_padding, {B, 1, S});  // (B, H, S) by broadcasting
  }
  Variable q = detail::split_heads(q_proj->forward(query), H);  // (B, H, T, Dh)
  Variable k = detail::split_heads(k_proj->forward(key), H);    // (B, H, S, Dh)
  Variable v = detail::split_heads(v_proj->forward(value), H);
  Variable out = linear_attention(q, k, v, options_.causal, padding);  // (B, H, T, Dh)
  return out_proj->forward(detail::merge_heads(out));
}

std::string LinearAttention::describe() const {
  return detail::concat("LinearAttention(embed_dim=", options_.embed_dim, ", num_heads=", options_.num_heads,
                        ", causal=", options_.causal ? "true" : "false",
                        ", bias=", options_.bias ? "true" : "false", ")");
}

}  // namespace heed::nn
