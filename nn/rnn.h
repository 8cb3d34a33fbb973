// Recurrent layers: RNN, GRU and LSTM cells (one time step), and the
// multi-layer, optionally bidirectional layers that run them over a sequence.
//
// Parameters follow PyTorch exactly (names, shapes, gate order), so a
// checkpoint holds the names of nn.GRU's state_dict and loads either way:
//
//   weight_ih: (G*Hid, I)  weight_hh: (G*Hid, Hid)  bias_ih, bias_hh: (G*Hid,)
//   I = input_size, Hid = hidden_size,
//   G = 1 for RNN; 3 for GRU, gates (r, z, n); 4 for LSTM, gates (i, f, g, o)
//
// With x: (B, I), h: (B, Hid), gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh,
// each split into its G gates of Hid columns:
//
//   RNN:  h' = tanh(gi + gh)
//   GRU:  r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)
//         n = tanh(gi_n + r * gh_n)   (r scales W_hn h + b_hn, bias included)
//         h' = (1 - z) * n + z * h
//   LSTM: i = sigmoid(gi_i + gh_i)   f = sigmoid(gi_f + gh_f)
//         g = tanh(gi_g + gh_g)      o = sigmoid(gi_o + gh_o)
//         c' = f * c + i * g         h' = o * tanh(c')
//
// Every parameter starts ~ U(-1/sqrt(Hid), 1/sqrt(Hid)), PyTorch's default.
//
// The sequence layers take batch-first x: (B, T, I), an optional initial
// state and optional lengths, and give
//
//   nn::GRU encoder({.input_size = 32, .hidden_size = 64, .bidirectional = true});
//   auto [output, h_n] = encoder.forward(x, /*h0=*/{}, /*lengths=*/{7, 5, 2});
//
//   output: (B, T, Dir*Hid), Dir = 2 if bidirectional (forward half first), else 1
//   h_n:    (L*Dir, B, Hid), L = num_layers, rows ordered l0, l0_reverse, l1, ... (c_n too)
// Layer l > 0 reads layer l-1's output. Padded batches pass per-sequence
// lengths: at t >= length the state is carried unchanged,
//   h = m * h_new + (1 - m) * h,   m = (t < length),
// so padding never reaches h_n, and the output there is zero. The reverse
// direction runs t = T-1 .. 0: the padded steps come first and leave the
// initial state untouched, so each sequence starts at its own last step.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "nn/module.h"
#include "tensor/random.h"

namespace heed::nn {

// ------------------------------------------------------------- cells
struct RNNCellOptions {
  int64_t input_size = 0;   // I
  int64_t hidden_size = 0;  // Hid
  bool bias = true;
  // The initial weights' seed; without one (and without a Generator&) the
  // layer draws its seed from the default generator (heed::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
};
using GRUCellOptions = RNNCellOptions;
using LSTMCellOptions = RNNCellOptions;

// The four parameters every cell holds; `gates` is G above.
class RecurrentCell : public Module {
 public:
  std::string describe() const override;
  const RNNCellOptions& options() const { return options_; }

  Variable weight_ih;  // (G*Hid, I)
  Variable weight_hh;  // (G*Hid, Hid)
  Variable bias_ih;    // (G*Hid,), undefined without bias
  Variable bias_hh;    // (G*Hid,), undefined without bias

 protected:
  // gen: where the initial weights come from; null for generator_from(options.seed).
  RecurrentCell(std::string type_name, int64_t gates, const RNNCellOptions& options, Generator* gen);
  // Checks x: (B, I) and, when defined, a state part `what`: (B, Hid).
  void check_input(const Variable& x, const Variable& state, const char* what) const;

 private:
  RNNCellOptions options_;
};

class RNNCell : public RecurrentCell {
 public:
  explicit RNNCell(const RNNCellOptions& options);
  RNNCell(const RNNCellOptions& options, Generator& gen);
  // x: (B, I)  h: (B, Hid), zeros when undefined  ->  h': (B, Hid)
  Variable forward(const Variable& x, const Variable& h = {});
};

class GRUCell : public RecurrentCell {
 public:
  explicit GRUCell(const GRUCellOptions& options);
  GRUCell(const GRUCellOptions& options, Generator& gen);
  // x: (B, I)  h: (B, Hid), zeros when undefined  ->  h': (B, Hid)
  Variable forward(const Variable& x, const Variable& h = {});
};

// An LSTM's state: h and c, each (B, Hid) for a cell, (L*Dir, B, Hid) for a layer.
struct LSTMState {
  Variable h;
  Variable c;
};

class LSTMCell : public RecurrentCell {
 public:
  explicit LSTMCell(const LSTMCellOptions& options);
  LSTMCell(const LSTMCellOptions& options, Generator& gen);
  // x: (B, I)  state: (B, Hid) each, zeros when undefined  ->  (h', c'): (B, Hid) each
  LSTMState forward(const Variable& x, const LSTMState& state = {});
};

// ------------------------------------------------------------- sequence layers
struct RNNOptions {
  int64_t input_size = 0;   // I
  int64_t hidden_size = 0;  // Hid
  int64_t num_layers = 1;   // L
  bool bias = true;
  bool bidirectional = false;
  // The initial weights' seed; without one (and without a Generator&) the
  // layer draws its seed from the default generator (heed::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
};
using GRUOptions = RNNOptions;
using LSTMOptions = RNNOptions;

// Per-sequence lengths of a padded batch, each in [0, T]: from a list
// ({5, 3}), a std::vector<int64_t> or a (B,) Tensor of whole numbers. Empty
// means every sequence fills all T steps.
class Lengths {
 public:
  Lengths() = default;
  Lengths(std::initializer_list<int64_t> lengths) : values_(lengths) {}
  Lengths(std::vector<int64_t> lengths) : values_(std::move(lengths)) {}
  Lengths(const Tensor& lengths);

  bool empty() const { return values_.empty(); }
  const std::vector<int64_t>& values() const { return values_; }

 private:
  std::vector<int64_t> values_;
};

struct RNNOutput {
  Variable output;  // (B, T, Dir*Hid), zero at padded steps
  Variable h_n;     // (L*Dir, B, Hid)
};

struct LSTMOutput {
  Variable output;  // (B, T, Dir*Hid), zero at padded steps
  Variable h_n;     // (L*Dir, B, Hid)
  Variable c_n;     // (L*Dir, B, Hid)
};

// What RNN, GRU and LSTM share: the parameters of every layer and direction,
// registered as weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then
// the same with _reverse, then _l1, ... (PyTorch's order), and the loop.
class Recurrent : public Module {
 public:
  std::string describe() const override;
  const RNNOptions& options() const { return options_; }

  struct Weights {
    Variable weight_ih, weight_hh, bias_ih, bias_hh;
  };
  // The parameters of layer `layer`, direction 0 (forward) or 1 (reverse),
  // like PyTorch's gru.weight_ih_l0 attributes. forward reads these; change
  // values with set_value, which parameters() sees too.
  Weights& weights(int64_t layer, int64_t direction);
  const Weights& weights(int64_t layer, int64_t direction) const;

 protected:
  enum class Cell { rnn, gru, lstm };
  // gen: where the initial weights come from; null for generator_from(options.seed).
  Recurrent(std::string type_name, Cell cell, const RNNOptions& options, Generator* gen);
  // h0, c0: (L*Dir, B, Hid) or undefined for zeros; c0 and c_n for LSTM only.
  LSTMOutput run(const Variable& x, const Variable& h0, const Variable& c0, const Lengths& lengths) const;

 private:
  Cell cell_;
  RNNOptions options_;
  std::vector<Weights> weights_;  // index layer*Dir + direction
};

class RNN : public Recurrent {
 public:
  explicit RNN(const RNNOptions& options);
  RNN(const RNNOptions& options, Generator& gen);
  // x: (B, T, I)  h0: (L*Dir, B, Hid), zeros when undefined
  RNNOutput forward(const Variable& x, const Variable& h0 = {}, const Lengths& lengths = {});
};

class GRU : public Recurrent {
 public:
  explicit GRU(const GRUOptions& options);
  GRU(const GRUOptions& options, Generator& gen);
  // x: (B, T, I)  h0: (L*Dir, B, Hid), zeros when undefined
  RNNOutput forward(const Variable& x, const Variable& h0 = {}, const Lengths& lengths = {});
};

class LSTM : public Recurrent {
 public:
  explicit LSTM(const LSTMOptions& options);
  LSTM(const LSTMOptions& options, Generator& gen);
  // x: (B, T, I)  state: (L*Dir, B, Hid) each, zeros when undefined
  LSTMOutput forward(const Variable& x, const LSTMState& state = {}, const Lengths& lengths = {});
};

}  // namespace heed::nn
