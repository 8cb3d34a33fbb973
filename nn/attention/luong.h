// Luong attention (Luong, Pham and Manning 2015): the decoder's current state
// h_t scores the encoder outputs h_s multiplicatively or by a small network,
// globally or inside a window, and the context joins h_t in the attentional
// state that predicts the next word.
//
// Scores, h_t: (B, Hid), h_s: (B, S, Hid) -> (B, S):
//   dot       h_t . h_s
//   general   h_t . W_a h_s
//   concat    v_a . tanh(W_a [h_t; h_s])
//   location  (W_a h_t)_s, one score per source position, from h_t alone
// Windows:
//   global    every source position
//   local_m   [t - D, t + D] around the decoder step t (monotonic alignment)
//   local_p   [p_t - D, p_t + D] around a predicted p_t = S_b sigmoid(v_p . tanh(W_p h_t)),
//             S_b the length of sequence b, and the weights times the Gaussian
//             exp(-(s - p_t)^2 / (2 sigma^2)), sigma = D / 2. p_t stays real, so
//             the Gaussian passes gradients to W_p and v_p.
// Then  a = softmax over the window's unmasked positions (times the Gaussian),
//       c = sum_s a_s h_s,   h~ = tanh(W_c [c; h_t])  (the attentional hidden state).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "nn/linear.h"
#include "nn/module.h"

namespace heed::nn {

enum class LuongScore { dot, general, concat, location };
enum class LuongWindow { global, local_m, local_p };

struct LuongAttentionOptions {
  int64_t hidden_size = 0;  // Hid: the decoder state and the encoder outputs
  LuongScore score = LuongScore::general;
  LuongWindow window = LuongWindow::global;
  int64_t half_window = 0;        // D of the local windows (>= 1 for local_m, local_p)
  int64_t max_source_length = 0;  // the location score's positions (location only)
  std::optional<uint64_t> seed = std::nullopt;
};

struct LuongOutput {
  Variable attentional;  // h~ = tanh(W_c [c; h_t]): (B, Hid)
  Variable context;      // c: (B, Hid)
  Variable weights;      // a: (B, S)
  Variable position;     // p_t: (B,) for local_p (local_m: the step t), undefined for global
};

// (B, S): exp(-(s - p_b)^2 / (2 sigma^2)) for s = 0 .. S - 1, p: (B,).
Variable gaussian_window(const Variable& p, int64_t S, float sigma);

class LuongAttention : public Module {
 public:
  explicit LuongAttention(const LuongAttentionOptions& options);
  LuongAttention(const LuongAttentionOptions& options, Generator& gen);

  // h_t: (B, Hid)  keys: (B, S, Hid), the encoder outputs  t: the decoder step
  // (local_m)  key_padding: (B, S), non-zero at padding, or undefined.
  LuongOutput forward(const Variable& h_t, const Variable& keys, int64_t t = 0,
                      const Tensor& key_padding = Tensor()) const;
  std::string describe() const override;
  const LuongAttentionOptions& options() const { return options_; }

  std::shared_ptr<Linear>
      w_a;  // general: Hid -> Hid; concat: 2 Hid -> Hid; location: Hid -> max_source_length
  std::shared_ptr<Linear> v_a;       // concat: Hid -> 1
  std::shared_ptr<Linear> w_p, v_p;  // local_p: Hid -> Hid, Hid -> 1
  std::shared_ptr<Linear> w_c;       // 2 Hid -> Hid, the attentional state

 private:
  void build(Generator& gen);
  Variable scores(const Variable& h_t, const Variable& keys) const;  // (B, S)
  LuongAttentionOptions options_;
};

}  // namespace heed::nn
