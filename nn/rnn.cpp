#include "nn/rnn.h"

#include <cmath>
#include <utility>

#include "autograd/ops.h"
#include "nn/init.h"
#include "nn/linear.h"

namespace heed::nn {
namespace {

// One time step of each cell, given the input's projection gi = x W_ih^T + b_ih:
// (B, G*Hid), made outside so that a sequence layer projects all T steps at once.
Variable rnn_step(const Variable& gi, const Variable& h, const Variable& w_hh, const Variable& b_hh) {
  return tanh(gi + linear(h, w_hh, b_hh));
}

Variable gru_step(const Variable& gi, const Variable& h, const Variable& w_hh, const Variable& b_hh) {
  std::vector<Variable> i = chunk(gi, 3, 1),
                        g = chunk(linear(h, w_hh, b_hh), 3, 1);  // r, z, n: (B, Hid) each
  Variable r = sigmoid(i[0] + g[0]);
  Variable z = sigmoid(i[1] + g[1]);
  Variable n = tanh(i[2] + r * g[2]);
  return n + z * (h - n);  // = (1 - z) * n + z * h, one op shorter
}

LSTMState lstm_step(const Variable& gi, const LSTMState& state, const Variable& w_hh, const Variable& b_hh) {
  std::vector<Variable> g = chunk(gi + linear(state.h, w_hh, b_hh), 4, 1);  // i, f, g, o: (B, Hid) each
  Variable c = sigmoid(g[1]) * state.c + sigmoid(g[0]) * tanh(g[2]);
  return {sigmoid(g[3]) * tanh(c), c};
}

const char* flag(bool on) { return on ? "true" : "false"; }

}  // namespace

// ------------------------------------------------------------- cells
RecurrentCell::RecurrentCell(std::string type_name, int64_t gates, const RNNCellOptions& options,
                             Generator* gen)
    : Module(std::move(type_name)), options_(options) {
  HEED_CHECK(options.input_size > 0 && options.hidden_size > 0, this->type_name(),
             ": input_size and hidden_size must be positive, got input_size=", options.input_size,
             ", hidden_size=", options.hidden_size);
  Generator seeded = gen ? Generator() : generator_from(options.seed);
  Generator& g = gen ? *gen : seeded;
  const int64_t Hid = options.hidden_size;
  weight_ih =
      register_parameter("weight_ih", init::linear_uniform({gates * Hid, options.input_size}, Hid, g));
  weight_hh = register_parameter("weight_hh", init::linear_uniform({gates * Hid, Hid}, Hid, g));
  if (options.bias) {
    bias_ih = register_parameter("bias_ih", init::linear_uniform({gates * Hid}, Hid, g));
    bias_hh = register_parameter("bias_hh", init::linear_uniform({gates * Hid}, Hid, g));
  }
}

std::string RecurrentCell::describe() const {
  return detail::concat(type_name(), "(input_size=", options_.input_size,
                        ", hidden_size=", options_.hidden_size, ", bias=", flag(options_.bias), ")");
}

void RecurrentCell::check_input(const Variable& x, const Variable& state, const char* what) const {
  HEED_CHECK(x.dim() == 2 && x.size(1) == options_.input_size, describe(), ": expected x (B, ",
             options_.input_size, "), got ", x.shape());
  const Shape expected{x.size(0), options_.hidden_size};
  HEED_CHECK(!state.defined() || state.shape() == expected, describe(), ": expected ", what, " ", expected,
             ", got ", state.shape());
}

RNNCell::RNNCell(const RNNCellOptions& options) : RecurrentCell("RNNCell", 1, options, nullptr) {}
RNNCell::RNNCell(const RNNCellOptions& options, Generator& gen)
    : RecurrentCell("RNNCell", 1, options, &gen) {}

Variable RNNCell::forward(const Variable& x, const Variable& h) {
  check_input(x, h, "h");
  Variable h0 = h.defined() ? h : Variable(zeros({x.size(0), options().hidden_size}));
  return rnn_step(linear(x, weight_ih, bias_ih), h0, weight_hh, bias_hh);
}

GRUCell::GRUCell(const GRUCellOptions& options) : RecurrentCell("GRUCell", 3, options, nullptr) {}
GRUCell::GRUCell(const GRUCellOptions& options, Generator& gen)
    : RecurrentCell("GRUCell", 3, options, &gen) {}

Variable GRUCell::forward(const Variable& x, const Variable& h) {
  check_input(x, h, "h");
  Variable h0 = h.defined() ? h : Variable(zeros({x.size(0), options().hidden_size}));
  return gru_step(linear(x, weight_ih, bias_ih), h0, weight_hh, bias_hh);
}

LSTMCell::LSTMCell(const LSTMCellOptions& options) : RecurrentCell("LSTMCell", 4, options, nullptr) {}
LSTMCell::LSTMCell(const LSTMCellOptions& options, Generator& gen)
    : RecurrentCell("LSTMCell", 4, options, &gen) {}

LSTMState LSTMCell::forward(const Variable& x, const LSTMState& state) {
  check_input(x, state.h, "h");
  check_input(x, state.c, "c");
  Variable zero(zeros({x.size(0), options().hidden_size}));
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
  HEED_CHECK(options.input_size > 0 && options.hidden_size > 0 && options.num_layers > 0, this->type_name(),
             ": input_size, hidden_size and num_layers must be positive, got input_size=", options.input_size,
             ", hidden_size=", options.hidden_size, ", num_layers=", options.num_layers);
  Generator seeded = gen ? Generator() : generator_from(options.seed);
  Generator& g = gen ? *gen : seeded;
  const int64_t gates = cell == Cell::rnn ? 1 : cell == Cell::gru ? 3 : 4;
  const int64_t Hid = options.hidden_size, Dir = options.bidirectional ? 2 : 1;
  for (int64_t l = 0; l < options.num_layers; ++l) {
    for (int64_t d = 0; d < Dir; ++d) {
      std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
      const int64_t in = l == 0 ? options.input_size : Dir * Hid;
      Weights w;
      w.weight_ih = register_parameter("weight_ih" + suffix, init::linear_uniform({gates * Hid, in}, Hid, g));
      w.weight_hh =
          register_parameter("weight_hh" + suffix, init::linear_uniform({gates * Hid, Hid}, Hid, g));
      if (options.bias) {
        w.bias_ih = register_parameter("bias_ih" + suffix, init::linear_uniform({gates * Hid}, Hid, g));
        w.bias_hh = register_parameter("bias_hh" + suffix, init::linear_uniform({gates * Hid}, Hid, g));
      }
      weights_.push_back(w);
    }
  }
}

std::string Recurrent::describe() const {
  return detail::concat(type_name(), "(input_size=", options_.input_size,
                        ", hidden_size=", options_.hidden_size, ", num_layers=", options_.num_layers,
                        ", bias=", flag(options_.bias), ", bidirectional=", flag(options_.bidirectional),
                        ")");
}

const Recurrent::Weights& Recurrent::weights(int64_t layer, int64_t direction) const {
  const int64_t Dir = options_.bidirectional ? 2 : 1;
  HEED_CHECK(layer >= 0 && layer < options_.num_layers && direction >= 0 && direction < Dir, describe(),
             ": no layer ", layer, " direction ", direction);
  return weights_[layer * Dir + direction];
}

Recurrent::Weights& Recurrent::weights(int64_t layer, int64_t direction) {
  return const_cast<Weights&>(std::as_const(*this).weights(layer, direction));
}

LSTMOutput Recurrent::run(const Variable& x, const Variable& h0, const Variable& c0,
                          const Lengths& lengths) const {
  const int64_t Hid = options_.hidden_size, Dir = options_.bidirectional ? 2 : 1;
  HEED_CHECK(x.dim() == 3 && x.size(1) > 0 && x.size(2) == options_.input_size, describe(),
             ": expected x (B, T, ", options_.input_size, ") with T >= 1, got ", x.shape());
  const int64_t B = x.size(0), T = x.size(1);
  const Shape state_shape{options_.num_layers * Dir, B, Hid};
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

  Variable input = x;  // (B, T, I) for layer 0, then (B, T, Dir*Hid)
  std::vector<Variable> h_n, c_n;
  for (int64_t l = 0; l < options_.num_layers; ++l) {
    std::vector<Variable> outputs;  // one (B, T, Hid) per direction
    for (int64_t d = 0; d < Dir; ++d) {
      const Weights& w = weights_[l * Dir + d];
      // (B, T, G*Hid): all steps in one matmul, then T views (B, G*Hid) from one
      // node, so the backward stacks their gradients once instead of once per step
      std::vector<Variable> gi = unbind(linear(input, w.weight_ih, w.bias_ih), 1);
      Variable zero(zeros({B, Hid}));
      LSTMState s{h0.defined() ? select(h0, 0, l * Dir + d) : zero,
                  c0.defined() ? select(c0, 0, l * Dir + d) : zero};
      std::vector<Variable> steps(T);
      for (int64_t i = 0; i < T; ++i) {
        const int64_t t = d == 0 ? i : T - 1 - i;
        const Variable& gi_t = gi[t];
        LSTMState next;
        switch (cell_) {
          case Cell::rnn:
            next.h = rnn_step(gi_t, s.h, w.weight_hh, w.bias_hh);
            break;
          case Cell::gru:
            next.h = gru_step(gi_t, s.h, w.weight_hh, w.bias_hh);
            break;
          case Cell::lstm:
            next = lstm_step(gi_t, s, w.weight_hh, w.bias_hh);
            break;
        }
        if (masks.empty()) {
          s = next;
          steps[t] = next.h;
        } else {  // h = m * h_new + (1 - m) * h, as one where
          s.h = where(masks[t], next.h, s.h);
          if (cell_ == Cell::lstm) s.c = where(masks[t], next.c, s.c);
          steps[t] = where(masks[t], next.h, zero);
        }
      }
      outputs.push_back(stack(steps, 1));
      h_n.push_back(s.h);
      c_n.push_back(s.c);
    }
    input = Dir == 2 ? cat(outputs, 2) : outputs[0];
  }
  return {input, stack(h_n, 0), cell_ == Cell::lstm ? stack(c_n, 0) : Variable()};
}

RNN::RNN(const RNNOptions& options) : Recurrent("RNN", Cell::rnn, options, nullptr) {}
RNN::RNN(const RNNOptions& options, Generator& gen) : Recurrent("RNN", Cell::rnn, options, &gen) {}

RNNOutput RNN::forward(const Variable& x, const Variable& h0, const Lengths& lengths) {
  LSTMOutput out = run(x, h0, {}, lengths);
  return {out.output, out.h_n};
}

GRU::GRU(const GRUOptions& options) : Recurrent("GRU", Cell::gru, options, nullptr) {}
GRU::GRU(const GRUOptions& options, Generator& gen) : Recurrent("GRU", Cell::gru, options, &gen) {}

RNNOutput GRU::forward(const Variable& x, const Variable& h0, const Lengths& lengths) {
  LSTMOutput out = run(x, h0, {}, lengths);
  return {out.output, out.h_n};
}

LSTM::LSTM(const LSTMOptions& options) : Recurrent("LSTM", Cell::lstm, options, nullptr) {}
LSTM::LSTM(const LSTMOptions& options, Generator& gen) : Recurrent("LSTM", Cell::lstm, options, &gen) {}

LSTMOutput LSTM::forward(const Variable& x, const LSTMState& state, const Lengths& lengths) {
  return run(x, state.h, state.c, lengths);
}

}  // namespace heed::nn
