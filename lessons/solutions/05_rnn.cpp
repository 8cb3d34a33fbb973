// Reference solutions to lesson 05's exercises (built with HEED_SOLUTIONS=ON).
#include "lessons/05_rnn/exercises.h"
#include "nn/nn.h"

namespace heed::lesson05 {

Variable gru_cell(const Variable& x, const Variable& h, const Variable& weight_ih, const Variable& weight_hh,
                  const Variable& bias_ih, const Variable& bias_hh) {
  // (B, I)(I, 3 Hid) and (B, Hid)(Hid, 3 Hid), each split into (B, Hid) thirds r, z, n
  std::vector<Variable> gi = chunk(matmul(x, transpose(weight_ih, 0, 1)) + bias_ih, 3, 1);
  std::vector<Variable> gh = chunk(matmul(h, transpose(weight_hh, 0, 1)) + bias_hh, 3, 1);
  Variable r = sigmoid(gi[0] + gh[0]);
  Variable z = sigmoid(gi[1] + gh[1]);
  Variable n = tanh(gi[2] + r * gh[2]);
  return (1.0f - z) * n + z * h;
}

Variable teacher_forced_logits(course::Seq2Seq& model, const Tensor& source, const Tensor& target) {
  const int64_t B = target.size(0), T = target.size(1);
  course::Seq2Seq::State state = model.encode(source, Tensor());
  Tensor previous = full({B}, float(model.options().bos));
  std::vector<Variable> logits;
  for (int64_t t = 0; t < T; ++t) {
    logits.push_back(model.step(previous, state));  // (B, V)
    previous = select(target, 1, t);                // the truth, not the prediction
  }
  return stack(logits, 1);  // (B, T, V)
}

course::Accuracy exact_match(const Tensor& predicted, const Tensor& target, const Tensor& padding) {
  const int64_t B = target.size(0), T = target.size(1);
  const Tensor p = contiguous(predicted), y = contiguous(target);
  const Tensor pad = padding.defined() ? contiguous(padding) : zeros(target.shape());
  int64_t visible = 0, right = 0, rows_right = 0;
  for (int64_t b = 0; b < B; ++b) {
    bool row_right = true;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = b * T + t;
      if (pad.data()[i] != 0.0f) continue;
      ++visible;
      const bool ok = p.data()[i] == y.data()[i];
      right += ok;
      row_right = row_right && ok;
    }
    rows_right += row_right;
  }
  return {visible == 0 ? 1.0 : double(right) / double(visible),
          B == 0 ? 1.0 : double(rows_right) / double(B)};
}

}  // namespace heed::lesson05
