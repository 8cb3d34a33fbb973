#include "nn/rnn.h"

#include <cmath>
#include <utility>

#include "autograd/ops.h"
#include "nn/init.h"
#include "nn/linear.h"

namespace heed::nn {
namespace {

// One time step of each cell, given the input's projection gi = x W_ih^T + b_ih:
// (B, G*H), made outside so that a sequence layer projects all T steps at once.
Variable rnn_step(const Variable& gi, const Variable& h, const Variable& w_hh, const Variable& b_hh) {
  return tanh(gi + linear(h, w_hh, b_hh));
}

Variable gru_step(const Variable& gi, const Variable& h, const Variable& w_hh, const Variable& b_hh) {
  std::vector<Variable> i = chunk(gi, 3, 1), g = chunk(linear(h, w_hh, b_hh), 3, 1);  // r, z, n: (B, H) each
  Variable r = sigmoid(i[0] + g[0]);
  Variable z = sigmoid(i[1] + g[1]);
  Variable n = tanh(i[2] + r * g[2]);
  return n + z * (h - n);  // = (1 - z) * n + z * h, one op shorter
}

LSTMState lstm_step(const Variable& gi, const LSTMState& state, const Variable& w_hh, const Variable& b_hh) {
  std::vector<Variable> g = chunk(gi + linear(state.h, w_hh, b_hh), 4, 1);  // i, f, g, o: (B, H) each
  Variable c = sigmoid(g[1]) * state.c + sigmoid(g[0]) * tanh(g[2]);
  return {sigmoid(g[3]) * tanh(c), c};
}

const char* flag(bool on) { return on ? "true" : "false"; }

}  // namespace

// ------------------------------------------------------------- cells
RecurrentCell::RecurrentCell(std::string type_name, int64_t gates, const RNNCellOptions& options,
                             Generator* gen)
    : Module(std::move(type_name)), options_(options) {
  HEED_CHECK(options.input > 0 && options.hidden > 0, this->type_name(),
             ": input and hidden must be positive, got input=", options.input, ", hidden=", options.hidden);
  Generator seeded(options.seed);
  Generator& g = gen ? *gen : seeded;
  const int64_t H = options.hidden;
  weight_ih = register_parameter("weight_ih", init::linear_uniform({gates * H, options.input}, H, g));
  weight_hh = register_parameter("weight_hh", init::linear_uniform({gates * H, H}, H, g));
  if (options.bias) {
    bias_ih = register_parameter("bias_ih", init::linear_uniform({gates * H}, H, g));
    bias_hh = register_parameter("bias_hh", init::linear_uniform({gates * H}, H, g));
  }
}

std::string RecurrentCell::describe() const {
  return detail::concat(type_name(), "(input=", options_.input, ", hidden=", options_.hidden,
                        ", bias=", flag(options_.bias), ")");
}

void RecurrentCell::check_input(const Variable& x, const Variable& state, const char* what) const {
  HEED_CHECK(x.dim() == 2 && x.size(1) == options_.input, describe(), ": expected x (B, ", options_.input,
             "), got ", x.shape());
  const Shape expected{x.size(0), options_.hidden};
  HEED_CHECK(!state.defined() || state.shape() == expected, describe(), ": expected ", what, " ", expected,
             ", got ", state.shape());
}

RNNCell::RNNCell(const RNNCellOptions& options) : RecurrentCell("RNNCell", 1, options, nullptr) {}
RNNCell::RNNCell(const RNNCellOptions& options, Generator& gen)
    : RecurrentCell("RNNCell", 1, options, &gen) {}

Variable RNNCell::forward(const Variable& x, const Variable& h) {
  check_input(x, h, "h");
  Variable h0 = h.defined() ? h : Variable(zeros({x.size(0), options().hidden}));
  return rnn_step(linear(x, weight_ih, bias_ih), h0, weight_hh, bias_hh);
}

GRUCell::GRUCell(const GRUCellOptions& options) : RecurrentCell("GRUCell", 3, options, nullptr) {}
GRUCell::GRUCell(const GRUCellOptions& options, Generator& gen)
    : RecurrentCell("GRUCell", 3, options, &gen) {}

Variable GRUCell::forward(const Variable& x, const Variable& h) {
  check_input(x, h, "h");
  Variable h0 = h.defined() ? h : Variable(zeros({x.size(0), options().hidden}));
  return gru_step(linear(x, weight_ih, bias_ih), h0, weight_hh, bias_hh);
}

LSTMCell::LSTMCell(const LSTMCellOptions& options) : RecurrentCell("LSTMCell", 4, options, nullptr) {}
LSTMCell::LSTMCell(const LSTMCellOptions& options, Generator& gen)
    : RecurrentCell("LSTMCell", 4, options, &gen) {}

LSTMState LSTMCell::forward(const Variable& x, const LSTMState& state) {
  check_input(x, state.h, "h");
  check_input(x, state.c, "c");
  Variable zero(zeros({x.size(0), options().hidden}));
  LSTMState s{state.h.defined() ? state.h : zero, state.c.defined() ? state.c : zero};
  return lstm_step(linear(x, weight_ih, bias_ih), s, weight_hh, bias_hh);
}

// ------------------------------------------------------------- sequence layers
Lengths::Lengths(const Tensor& lengths) {
  if (!lengths.defined()) return;
  HEED_CHECK(lengths.dim() == 1, "Lengths: expected a (B,) tensor, got ", lengths.shape());
  for (float v : lengths.to_vector()) {
    HEED_CHECK(v == std::floor(v), "Lengths: ", v, " is not a whole number");
    values_.push_back(static_cast<int64_t>(v));
  }
}

Recurrent::Recurrent(std::string type_name, Cell cell, const RNNOptions& options, Generator* gen)
    : Module(std::move(type_name)), cell_(cell), options_(options) {
  HEED_CHECK(options.input > 0 && options.hidden > 0 && options.layers > 0, this->type_name(),
             ": input, hidden and layers must be positive, got input=", options.input,
             ", hidden=", options.hidden, ", layers=", options.layers);
  Generator seeded(options.seed);
  Generator& g = gen ? *gen : seeded;
  const int64_t gates = cell == Cell::RNN ? 1 : cell == Cell::GRU ? 3 : 4;
  const int64_t H = options.hidden, D = options.bidirectional ? 2 : 1;
  for (int64_t l = 0; l < options.layers; ++l) {
    for (int64_t d = 0; d < D; ++d) {
      std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      const int64_t in = l == 0 ? options.input : D * H;
      Weights w;
      w.weight_ih = register_parameter("weight_ih" + suffix, init::linear_uniform({gates * H, in}, H, g));
      w.weight_hh = register_parameter("weight_hh" + suffix, init::linear_uniform({gates * H, H}, H, g));
      if (options.bias) {
        w.bias_ih = register_parameter("bias_ih" + suffix, init::linear_uniform({gates * H}, H, g));
        w.bias_hh = register_parameter("bias_hh" + suffix, init::linear_uniform({gates * H}, H, g));
      }
      weights_.push_back(w);
    }
  }
}

std::string Recurrent::describe() const {
  return detail::concat(type_name(), "(input=", options_.input, ", hidden=", options_.hidden,
                        ", layers=", options_.layers, ", bias=", flag(options_.bias),
                        ", bidirectional=", flag(options_.bidirectional), ")");
}

const Recurrent::Weights& Recurrent::weights(int64_t layer, int64_t direction) const {
  const int64_t D = options_.bidirectional ? 2 : 1;
  HEED_CHECK(layer >= 0 && layer < options_.layers && direction >= 0 && direction < D, describe(),
             ": no layer ", layer, " direction ", direction);
  return weights_[layer * D + direction];
}

Recurrent::Weights& Recurrent::weights(int64_t layer, int64_t direction) {
  return const_cast<Weights&>(std::as_const(*this).weights(layer, direction));
}

LSTMOutput Recurrent::run(const Variable& x, const Variable& h0, const Variable& c0,
                          const Lengths& lengths) const {
  const int64_t H = options_.hidden, D = options_.bidirectional ? 2 : 1;
  HEED_CHECK(x.dim() == 3 && x.size(1) > 0 && x.size(2) == options_.input, describe(), ": expected x (B, T, ",
             options_.input, ") with T >= 1, got ", x.shape());
  const int64_t B = x.size(0), T = x.size(1);
  const Shape state_shape{options_.layers * D, B, H};
  HEED_CHECK(!h0.defined() || h0.shape() == state_shape, describe(), ": expected h0 ", state_shape, ", got ",
             h0.shape());
  HEED_CHECK(!c0.defined() || c0.shape() == state_shape, describe(), ": expected c0 ", state_shape, ", got ",
             c0.shape());

  // masks[t]: (B, 1), 1 where step t lies inside the sequence; left empty
  // when no sequence is padded, so full batches pay nothing for lengths.
  std::vector<Tensor> masks;
  if (!lengths.empty()) {
    const std::vector<int64_t>& len = lengths.values();
    HEED_CHECK(static_cast<int64_t>(len.size()) == B, describe(), ": got ", len.size(),
               " lengths for a batch of ", B);
    bool padded = false;
    for (int64_t b = 0; b < B; ++b) {
      HEED_CHECK(len[b] >= 0 && len[b] <= T, describe(), ": length ", len[b], " of sequence ", b,
                 " is outside [0, ", T, "]");
      padded = padded || len[b] < T;
    }
    for (int64_t t = 0; padded && t < T; ++t) {
      Tensor m = empty({B, 1});
      for (int64_t b = 0; b < B; ++b) m.data()[b] = t < len[b] ? 1.0f : 0.0f;
      masks.push_back(m);
    }
  }

  Variable input = x;  // (B, T, I) for layer 0, then (B, T, D*H)
  std::vector<Variable> h_n, c_n;
  for (int64_t l = 0; l < options_.layers; ++l) {
    std::vector<Variable> outputs;  // one (B, T, H) per direction
    for (int64_t d = 0; d < D; ++d) {
      const Weights& w = weights_[l * D + d];
      // (B, T, G*H): all steps in one matmul, then T views (B, G*H) from one node,
      // so the backward stacks their gradients once instead of once per step
      std::vector<Variable> gi = unbind(linear(input, w.weight_ih, w.bias_ih), 1);
      Variable zero(zeros({B, H}));
      LSTMState s{h0.defined() ? select(h0, 0, l * D + d) : zero,
                  c0.defined() ? select(c0, 0, l * D + d) : zero};
      std::vector<Variable> steps(T);
      for (int64_t i = 0; i < T; ++i) {
        const int64_t t = d == 0 ? i : T - 1 - i;
        const Variable& gi_t = gi[t];
        LSTMState next;
        switch (cell_) {
          case Cell::RNN:
            next.h = rnn_step(gi_t, s.h, w.weight_hh, w.bias_hh);
            break;
          case Cell::GRU:
            next.h = gru_step(gi_t, s.h, w.weight_hh, w.bias_hh);
            break;
          case Cell::LSTM:
            next = lstm_step(gi_t, s, w.weight_hh, w.bias_hh);
            break;
        }
        if (masks.empty()) {
          s = next;
          steps[t] = next.h;
        } else {  // h = m * h_new + (1 - m) * h, as one where
          s.h = where(masks[t], next.h, s.h);
          if (cell_ == Cell::LSTM) s.c = where(masks[t], next.c, s.c);
          steps[t] = where(masks[t], next.h, zero);
        }
      }
      outputs.push_back(stack(steps, 1));
      h_n.push_back(s.h);
      c_n.push_back(s.c);
    }
    input = D == 2 ? cat(outputs, 2) : outputs[0];
  }
  return {input, stack(h_n, 0), cell_ == Cell::LSTM ? stack(c_n, 0) : Variable()};
}

RNN::RNN(const RNNOptions& options) : Recurrent("RNN", Cell::RNN, options, nullptr) {}
RNN::RNN(const RNNOptions& options, Generator& gen) : Recurrent("RNN", Cell::RNN, options, &gen) {}

RNNOutput RNN::forward(const Variable& x, const Variable& h0, const Lengths& lengths) {
  LSTMOutput out = run(x, h0, {}, lengths);
  return {out.output, out.h_n};
}

GRU::GRU(const GRUOptions& options) : Recurrent("GRU", Cell::GRU, options, nullptr) {}
GRU::GRU(const GRUOptions& options, Generator& gen) : Recurrent("GRU", Cell::GRU, options, &gen) {}

RNNOutput GRU::forward(const Variable& x, const Variable& h0, const Lengths& lengths) {
  LSTMOutput out = run(x, h0, {}, lengths);
  return {out.output, out.h_n};
}

LSTM::LSTM(const LSTMOptions& options) : Recurrent("LSTM", Cell::LSTM, options, nullptr) {}
LSTM::LSTM(const LSTMOptions& options, Generator& gen) : Recurrent("LSTM", Cell::LSTM, options, &gen) {}

LSTMOutput LSTM::forward(const Variable& x, const LSTMState& state, const Lengths& lengths) {
  return run(x, state.h, state.c, lengths);
}

}  // namespace heed::nn
