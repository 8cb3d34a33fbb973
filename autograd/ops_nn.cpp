// The fused ops nn needs: each could be written with the ops above, but as one
// node its backward is one short formula instead of a chain of small ones (and
// for cross_entropy, numerically safer).
#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "autograd/ops_detail.h"
#include "tensor/kernels/softmax.h"

namespace heed {
namespace {

// Reads target: (N,) class ids, checking each is a whole number in [0, C) or ignore_index.
std::vector<int64_t> read_targets(const Tensor& target, int64_t n, int64_t classes, int64_t ignore_index,
                                  const char* op) {
  HEED_CHECK(target.defined() && target.dim() == 1 && target.size(0) == n, op, ": target must have shape (",
             n, ",) for ", n, " rows of logits, got ",
             target.defined() ? to_string(target.shape()) : "undefined");
  Tensor t = contiguous(target);
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) {
    float v = t.data()[i];
    ids[i] = static_cast<int64_t>(v);
    HEED_CHECK(float(ids[i]) == v && (ids[i] == ignore_index || (ids[i] >= 0 && ids[i] < classes)), op,
               ": target ", v, " at row ", i, " is not a class id in [0, ", classes, ") nor ignore_index ",
               ignore_index);
  }
  return ids;
}

// The weight of row i's loss in the output: 1/counted (mean), 1 (sum) or grad[i] (none),
// times the output's gradient.
struct RowWeights {
  Reduction reduction;
  int64_t counted;
  float of(const Tensor& grad, int64_t i) const {
    if (reduction == Reduction::none) return grad.data()[i];
    float g = grad.item();
    return reduction == Reduction::sum ? g : g / float(counted);
  }
};

// (N,) row losses -> the reduced output. mean divides by the rows not ignored;
// with every row ignored it is 0, not 0/0 = NaN.
Tensor reduce_rows(const Tensor& losses, const std::vector<int64_t>& ids, int64_t ignore_index,
                   Reduction reduction, int64_t& counted) {
  counted = 0;
  double total = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == ignore_index) continue;
    ++counted;
    total += losses.data()[i];
  }
  if (reduction == Reduction::none) return losses;
  if (reduction == Reduction::sum) return scalar(float(total));
  return scalar(counted > 0 ? float(total / double(counted)) : 0.0f);
}

void check_logits(const Variable& logits, const char* op) {
  HEED_CHECK(logits.dim() == 2, op, ": expected (N, C) scores, got shape ", logits.shape(),
             "; reshape (B, T, C) to (B*T, C) first");
}

}  // namespace

// ------------------------------------------------------------- cross_entropy
// logits: (N, C), target: (N,). With lsm = log_softmax(logits) and the target
// distribution q_i = (1 - e) onehot(t_i) + e / C,
//   loss_i = -sum_j q_ij lsm_ij      d loss_i / d logits_i = softmax(logits_i) - q_i
// An ignored row has loss 0 and gradient 0. A -inf logit (a masked class) has
// lsm = -inf: without smoothing its term is never formed (0 * -inf would be
// NaN); with smoothing e > 0 the loss is +inf, as in PyTorch, whose smoothing
// term sums every lsm_ij too. The gradient stays finite either way.
//
// lsm is as big as the logits (a (B*T, vocab) matrix, the step's largest) and
// never made: each row keeps its max m and log-sum l, lsm_ij = (x_ij - m_i) - l_i
// is formed where it is read, and the backward writes softmax = exp(lsm) over
// the saved logits when it is their last reader (Saved::take), else into a new
// tensor. The graph holds the logits and 2N floats, not a second (N, C).
Variable cross_entropy(const Variable& logits, const Tensor& target, int64_t ignore_index,
                       float label_smoothing, Reduction reduction) {
  check_logits(logits, "cross_entropy");
  const int64_t n = logits.size(0), c = logits.size(1);
  const float e = label_smoothing;
  HEED_CHECK(e >= 0.0f && e <= 1.0f, "cross_entropy: label_smoothing must be in [0, 1], got ", e);
  std::vector<int64_t> ids = read_targets(target, n, c, ignore_index, "cross_entropy");
  Tensor x = contiguous(logits.value()), m = empty({n}), l = empty({n});
  kernels::log_softmax_stats_rows(x.data(), m.data(), l.data(), n, c);
  Tensor losses = zeros({n});
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] == ignore_index) continue;
    const float *row = x.data() + i * c, mi = m.data()[i], li = l.data()[i];
    double loss = -(1.0 - e) * ((row[ids[i]] - mi) - li);
    if (e > 0.0f) {
      double all = 0;
      for (int64_t j = 0; j < c; ++j) all += (row[j] - mi) - li;
      loss -= e / double(c) * all;
    }
    losses.data()[i] = float(loss);
  }
  int64_t counted = 0;
  Tensor out = reduce_rows(losses, ids, ignore_index, reduction, counted);
  return record("cross_entropy", out, {logits},
                [saved = Saved(x, "its logits"), m = Saved(m, "its row maxima"),
                 l = Saved(l, "its row log-sums"), ids = std::move(ids), ignore_index, e,
                 weights = RowWeights{reduction, counted}](const Tensor& grad_output) {
                  const Tensor& x = saved;
                  const int64_t n = x.size(0), c = x.size(1);
                  Tensor grad = contiguous(grad_output);
                  Tensor dlogits = saved.take();  // x itself when no one else reads it
                  if (!dlogits.defined()) dlogits = empty({n, c});
                  kernels::softmax_from_stats_rows(x.data(), m.get().data(), l.get().data(), dlogits.data(),
                                                   n, c);
                  for (int64_t i = 0; i < n; ++i) {
                    float* d = dlogits.data() + i * c;
                    if (ids[i] == ignore_index) {
                      std::fill_n(d, c, 0.0f);
                      continue;
                    }
                    const float w = weights.of(grad, i), shift = e / float(c);
                    for (int64_t j = 0; j < c; ++j) d[j] = w * (d[j] - shift);
                    d[ids[i]] -= w * (1.0f - e);
                  }
                  return Grads{dlogits};
                });
}

// log_probs: (N, C), target: (N,). loss_i = -log_probs[i, t_i], so the only
// non-zero gradient of row i is -1 at its target.
Variable nll_loss(const Variable& log_probs, const Tensor& target, int64_t ignore_index,
                  Reduction reduction) {
  check_logits(log_probs, "nll_loss");
  const int64_t n = log_probs.size(0), c = log_probs.size(1);
  std::vector<int64_t> ids = read_targets(target, n, c, ignore_index, "nll_loss");
  Tensor lp = contiguous(log_probs.value());
  Tensor losses = zeros({n});
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] != ignore_index) losses.data()[i] = -lp.data()[i * c + ids[i]];
  int64_t counted = 0;
  Tensor out = reduce_rows(losses, ids, ignore_index, reduction, counted);
  return record("nll_loss", out, {log_probs},
                [shape = lp.shape(), ids = std::move(ids), ignore_index,
                 weights = RowWeights{reduction, counted}](const Tensor& grad_output) {
                  Tensor grad = contiguous(grad_output);
                  Tensor dlp = zeros(shape);
                  for (int64_t i = 0; i < shape[0]; ++i)
                    if (ids[i] != ignore_index) dlp.data()[i * shape[1] + ids[i]] = -weights.of(grad, i);
                  return Grads{dlp};
                });
}

// Composed, not fused: (input - target)^2 reduced; its backward is 2 (input - target).
Variable mse_loss(const Variable& input, const Variable& target, Reduction reduction) {
  HEED_CHECK(input.shape() == target.shape(), "mse_loss: input has shape ", input.shape(),
             " but target has shape ", target.shape());
  Variable diff = input - target;
  Variable squared = diff * diff;
  if (reduction == Reduction::none) return squared;
  return reduction == Reduction::sum ? sum(squared) : mean(squared);
}

// ------------------------------------------------------------- layer_norm
// Each row of x: (..., D) is normalized over its D values, then scaled and shifted:
//   xhat = (x - mean) * rstd,  rstd = 1 / sqrt(var + eps)  (var divides by D)
//   y = xhat * weight + bias
// Backward, per row, with dxhat = grad * weight:
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
//   dweight = sum over rows of grad * xhat,  dbias = sum over rows of grad
// xhat is as big as x. The op after a norm (a Linear, attention's projections)
// keeps y for its own backward, so keeping y here costs nothing, and xhat =
// (y - bias) / weight is recomputed from it, written over y when this backward
// is y's last reader (Saved::take). That is exact enough only when no |weight|
// is tiny next to its |bias| (layer_norm_recomputes_xhat); otherwise xhat is kept.
Variable layer_norm(const Variable& x, const Variable& weight, const Variable& bias, float eps) {
  // dx reads xhat, rstd and weight; dweight reads xhat; dbias reads nothing saved.
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad(), need_b = bias.requires_grad();
  const bool need_xhat = would_record({x, weight, bias}) && (need_x || need_w);
  const bool from_y = need_xhat && layer_norm_recomputes_xhat(weight.value(), bias.value());
  LayerNormResult r = layer_norm(x.value(), weight.value(), bias.value(), eps, need_xhat && !from_y);
  const int64_t d = x.size(-1), rows = r.rstd.numel();
  return record(
      "layer_norm", r.y, {x, weight, bias},
      [need_x, need_w, need_b, rows, d, from_y,
       saved =
           from_y ? Saved(r.y, "its output") : Saved(need_xhat ? r.xhat : Tensor(), "its normalized input"),
       rstd = Saved(need_x ? r.rstd : Tensor(), "its 1/std"),
       w = Saved(need_xhat ? weight.value() : Tensor(), "its input 1 (weight)"),
       b = Saved(from_y ? bias.value() : Tensor(), "its input 2 (bias)")](const Tensor& grad_output) {
        Tensor grad = contiguous(grad_output);
        Tensor xhat, dx, dw, db;
        if (from_y) {
          xhat = saved.take();
          if (!xhat.defined()) xhat = clone(saved);
          layer_norm_xhat_(xhat, w, b);
        } else {
          xhat = saved;
        }
        if (need_b) db = sum(reshape(grad, {rows, d}), {0});
        if (need_w) dw = sum(reshape(grad * xhat, {rows, d}), {0});
        if (need_x) dx = layer_norm_backward(grad, xhat, rstd, w);
        return Grads{dx, dw, db};
      });
}

// ------------------------------------------------------------- dropout
// y = x * mask, mask = 0 (probability p) or 1 / (1 - p), so E[y] = x. The mask
// is a hash of (seed, element), so backward drops the same elements of the
// gradient from the seed alone: the graph keeps 8 bytes, not a mask.
Variable dropout(const Variable& x, float p, bool training, Generator& gen) {
  HEED_CHECK(p >= 0.0f && p <= 1.0f, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0.0f) return x;
  return dropout(Variable(x), p, training, gen);
}

Variable dropout(Variable&& x, float p, bool training, Generator& gen) {
  HEED_CHECK(p >= 0.0f && p <= 1.0f, "dropout: p must be in [0, 1], got ", p);
  if (!training || p == 0.0f) return std::move(x);
  const uint64_t seed = gen.next_u64();
  Tensor y = detail::donated(x);
  if (y.defined())
    dropout_(y, p, seed);
  else
    y = dropout(x.value(), p, seed);
  return record("dropout", y, {x}, [p, seed](const Tensor& grad) { return Grads{dropout(grad, p, seed)}; });
}

// ------------------------------------------------------------- embedding
// weight: (V, D), ids: (B, T)  ->  out: (B, T, D), out[b][t] = weight[ids[b][t]].
// Row v's gradient is the sum of grad over every position holding v (an id used
// twice gets two contributions); the padding row gets none.
Variable embedding(const Variable& weight, const Tensor& ids, int64_t padding_idx) {
  HEED_CHECK(weight.dim() == 2, "embedding: weight must be (V, D), got shape ", weight.shape());
  HEED_CHECK(padding_idx < weight.size(0), "embedding: padding_idx ", padding_idx, " is out of range for ",
             weight.size(0), " rows");
  return record("embedding", index_select(weight.value(), 0, ids), {weight},
                [shape = weight.shape(), ids = Saved(ids, "its ids"), padding_idx](const Tensor& grad) {
                  Tensor dweight = index_add(shape, 0, ids, grad);
                  if (padding_idx >= 0) fill_(select(dweight, 0, padding_idx), 0.0f);
                  return Grads{dweight};
                });
}

}  // namespace heed
