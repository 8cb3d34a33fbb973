// Reference solutions to lesson 04's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>

#include "autograd/ops.h"
#include "lessons/04_training/exercises.h"

namespace heed::lesson04 {

Variable cross_entropy_mean(const Variable& logits, const Tensor& target) {
  const Tensor& z = logits.value();
  HEED_CHECK(z.dim() == 2 && target.dim() == 1 && target.size(0) == z.size(0),
             "cross_entropy_mean: expected logits (N, C) and target (N,), got ", z.shape(), " and ",
             target.shape());
  const int64_t n = z.size(0), classes = z.size(1);
  Tensor onehot = zeros(z.shape());
  const Tensor t = contiguous(target);
  for (int64_t i = 0; i < n; ++i) {
    const float c = t.data()[i];
    HEED_CHECK(c >= 0 && c < float(classes) && c == std::floor(c), "cross_entropy_mean: target ", c,
               " of row ", i, " is not a class id in 0..", classes - 1);
    onehot.at({i, int64_t(c)}) = 1;
  }
  const Tensor m = amax(z, {-1}, /*keepdim=*/true);
  const Tensor log_p = z - (m + log(sum(exp(z - m), {-1}, /*keepdim=*/true)));  // (N, C) log softmax
  Tensor loss = -sum(log_p * onehot) / float(n);
  return record("cross_entropy_mean", loss, {logits},
                [p = Saved(exp(log_p), "its softmax"), onehot = Saved(onehot, "the one-hot targets"),
                 n](const Tensor& grad) { return Grads{(p.get() - onehot.get()) * (grad / float(n))}; });
}

void sgd_momentum_step(const Tensor& weight, const Tensor& grad, Tensor& velocity,
                       const MomentumOptions& options) {
  const float lr = float(options.lr), mu = float(options.momentum), wd = float(options.weight_decay);
  const bool first = !velocity.defined();
  if (first) velocity = empty(weight.shape());
  float* w = weight.data();
  float* b = velocity.data();
  const float* g = grad.data();
  for (int64_t i = 0; i < weight.numel(); ++i) {
    const float d = g[i] + wd * w[i];
    b[i] = first ? d : mu * b[i] + d;
    w[i] -= lr * b[i];
  }
}

void adam_step(const Tensor& weight, const Tensor& grad, AdamState& state, const AdamStepOptions& options) {
  if (!state.m.defined()) state.m = zeros(weight.shape()), state.v = zeros(weight.shape());
  const int64_t t = ++state.t;
  const double bias1 = 1 - std::pow(options.beta1, double(t)), bias2 = 1 - std::pow(options.beta2, double(t));
  const float b1 = float(options.beta1), b2 = float(options.beta2), wd = float(options.weight_decay);
  float* w = weight.data();
  float* m = state.m.data();
  float* v = state.v.data();
  const float* g = grad.data();
  for (int64_t i = 0; i < weight.numel(); ++i) {
    const float d = g[i] + wd * w[i];
    m[i] = b1 * m[i] + (1 - b1) * d;
    v[i] = b2 * v[i] + (1 - b2) * d * d;
    const double m_hat = m[i] / bias1, v_hat = v[i] / bias2;
    w[i] -= float(options.lr * m_hat / (std::sqrt(v_hat) + options.eps));
  }
}

}  // namespace heed::lesson04
