// Reference solutions to lesson 12's exercises (built with HEED_SOLUTIONS=ON).
#include <cmath>
#include <vector>

#include "lessons/12_focus/exercises.h"
#include "nn/nn.h"
#include "tensor/error.h"

namespace heed::lesson12 {

FocusWindow focus_window(const Variable& q, const Variable& k, const Variable& mu_logit,
                         const Variable& sigma_logit, const Tensor& key_padding, float sigma_min) {
  HEED_CHECK(q.dim() == 4 && k.dim() == 4 && q.size(3) == k.size(3) && mu_logit.dim() == 3 &&
                 mu_logit.shape() == sigma_logit.shape(),
             "focus_window: expected q (B, H, T, Dh), k (B, H, S, Dh) and logits (B, H, T), got ", q.shape(),
             ", ", k.shape(), ", ", mu_logit.shape(), " and ", sigma_logit.shape());
  const int64_t B = q.size(0), S = k.size(2), Dh = q.size(3);
  // S_b - 1, the last real key of each sequence: (B, 1, 1)
  Tensor last =
      key_padding.defined() ? sum(eq(key_padding, scalar(0.0f)), {1}) - 1.0f : full({B}, float(S - 1));
  Variable mu = sigmoid(mu_logit) * Variable(reshape(last, {B, 1, 1}));
  // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no exp of a large number
  Variable sigma = relu(sigma_logit) + log(exp(-abs(sigma_logit)) + 1.0f) + sigma_min;
  // (j - mu)^2 / (2 sigma^2): (1, 1, 1, S) against (B, H, T, 1)  ->  (B, H, T, S)
  Variable distance = Variable(reshape(arange(S), {1, 1, 1, S})) - unsqueeze(mu, 3);
  Variable penalty = distance * distance / unsqueeze(sigma * sigma * 2.0f, 3);
  Variable scores = matmul(q, transpose(k, -2, -1)) * (1.0f / std::sqrt(float(Dh))) - penalty;
  Tensor mask = key_padding.defined() ? reshape(ne(key_padding, scalar(0.0f)), {B, 1, 1, S}) : Tensor();
  return {mask.defined() ? masked_softmax(scores, mask, -1) : softmax(scores, -1), mu, sigma};
}

double macro_f1(const Tensor& predictions, const Tensor& labels, int64_t classes) {
  HEED_CHECK(predictions.dim() == 1 && predictions.shape() == labels.shape(),
             "macro_f1: predictions and labels must be (N,) alike, got ", predictions.shape(), " and ",
             labels.shape());
  HEED_CHECK(classes > 0, "macro_f1: classes must be positive, got ", classes);
  std::vector<int64_t> tp(classes), fp(classes), fn(classes);
  const Tensor p = contiguous(predictions), y = contiguous(labels);
  for (int64_t i = 0; i < p.numel(); ++i) {
    const int64_t guess = int64_t(p.data()[i]), truth = int64_t(y.data()[i]);
    HEED_CHECK(guess >= 0 && guess < classes && truth >= 0 && truth < classes &&
                   float(guess) == p.data()[i] && float(truth) == y.data()[i],
               "macro_f1: item ", i, " has prediction ", p.data()[i], " and label ", y.data()[i],
               ", not class ids in [0, ", classes, ")");
    if (guess == truth) {
      ++tp[truth];
    } else {
      ++fp[guess];
      ++fn[truth];
    }
  }
  double total = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t denominator = 2 * tp[c] + fp[c] + fn[c];
    if (denominator == 0) continue;  // neither predicted nor true: left out
    total += 2.0 * double(tp[c]) / double(denominator);
    ++present;
  }
  return present ? total / double(present) : 0.0;
}

Variable masked_mean(const Variable& h, const Tensor& padding) {
  HEED_CHECK(
      h.dim() == 3 && padding.dim() == 2 && h.size(0) == padding.size(0) && h.size(1) == padding.size(1),
      "masked_mean: expected h (B, T, D) and padding (B, T), got ", h.shape(), " and ", padding.shape());
  Tensor real = eq(padding, scalar(0.0f));                     // (B, T): 1 at real positions
  Tensor count = maximum(sum(real, {1}, true), scalar(1.0f));  // (B, 1): no 0 / 0
  // a fill, not a product by the mask: 0 * inf would be NaN
  Variable kept = masked_fill(h, unsqueeze(ne(padding, scalar(0.0f)), 2), 0.0f);
  return sum(kept, {1}) / Variable(count);
}

}  // namespace heed::lesson12
