// Recurrent layers (nn/rnn.h): cells against hand-computed values and a scalar
// reference written apart from nn/rnn.cpp, PyTorch's parameter names and
// layout, the sequence layers against their unrolled cells, padding that never
// leaks, gradcheck of everything, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layer_check.h"
#include "nn/rnn.h"

using namespace heed;
using heed::testing::gradcheck_layer;

namespace {

// ------------------------------------------------------------- scalar reference
// One step for one sequence, in double, gate by gate, straight from PyTorch's
// equations (the comment at the top of nn/rnn.h). Row k*Hid + j of a weight
// holds gate k of hidden unit j.
using Vec = std::vector<double>;

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// W[row] . v + b[row]
double affine(const Variable& w, const Variable& b, int64_t row, const Vec& v) {
  double s = b.defined() ? b.value().at({row}) : 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += double(w.value().at({row, int64_t(i)})) * v[i];
  return s;
}

Vec ref_rnn(const nn::RecurrentCell& c, const Vec& x, const Vec& h) {
  Vec out(h.size());
  for (size_t j = 0; j < h.size(); ++j)
    out[j] = std::tanh(affine(c.weight_ih, c.bias_ih, j, x) + affine(c.weight_hh, c.bias_hh, j, h));
  return out;
}

Vec ref_gru(const nn::RecurrentCell& c, const Vec& x, const Vec& h) {
  const int64_t Hid = h.size();
  Vec out(Hid);
  for (int64_t j = 0; j < Hid; ++j) {
    double r = sigm(affine(c.weight_ih, c.bias_ih, j, x) + affine(c.weight_hh, c.bias_hh, j, h));
    double z = sigm(affine(c.weight_ih, c.bias_ih, Hid + j, x) + affine(c.weight_hh, c.bias_hh, Hid + j, h));
    double n = std::tanh(affine(c.weight_ih, c.bias_ih, 2 * Hid + j, x) +
                         r * affine(c.weight_hh, c.bias_hh, 2 * Hid + j, h));
    out[j] = (1 - z) * n + z * h[j];
  }
  return out;
}

std::pair<Vec, Vec> ref_lstm(const nn::RecurrentCell& cell, const Vec& x, const Vec& h, const Vec& c) {
  const int64_t Hid = h.size();
  Vec h2(Hid), c2(Hid);
  auto gate = [&](int64_t k, int64_t j) {
    return affine(cell.weight_ih, cell.bias_ih, k * Hid + j, x) +
           affine(cell.weight_hh, cell.bias_hh, k * Hid + j, h);
  };
  for (int64_t j = 0; j < Hid; ++j) {
    double i = sigm(gate(0, j)), f = sigm(gate(1, j)), g = std::tanh(gate(2, j)), o = sigm(gate(3, j));
    c2[j] = f * c[j] + i * g;
    h2[j] = o * std::tanh(c2[j]);
  }
  return {h2, c2};
}

Vec row(const Tensor& t, int64_t b) {
  std::vector<float> v = contiguous(select(t, 0, b)).to_vector();
  return {v.begin(), v.end()};
}

void check_row(const Tensor& got, int64_t b, const Vec& want) {
  Vec g = row(got, b);
  REQUIRE(g.size() == want.size());
  for (size_t j = 0; j < g.size(); ++j) CHECK(g[j] == doctest::Approx(want[j]).epsilon(1e-5));
}

// The 1x1 weights of the hand-computed cases, gate rows in PyTorch's order.
void set_1x1(nn::RecurrentCell& cell, std::vector<float> w_ih, std::vector<float> w_hh,
             std::vector<float> b_ih, std::vector<float> b_hh) {
  const int64_t g = w_ih.size();
  cell.weight_ih.set_value(from_vector(w_ih, {g, 1}));
  cell.weight_hh.set_value(from_vector(w_hh, {g, 1}));
  cell.bias_ih.set_value(from_vector(b_ih, {g}));
  cell.bias_hh.set_value(from_vector(b_hh, {g}));
}

// A batch of one-element rows: (n, 1).
Tensor column(const std::vector<float>& values) { return from_vector(values, {int64_t(values.size()), 1}); }

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

std::vector<Variable*> cell_parameters(nn::RecurrentCell& c) {
  return {&c.weight_ih, &c.weight_hh, &c.bias_ih, &c.bias_hh};
}

std::vector<Variable*> layer_parameters(nn::Recurrent& rnn) {
  std::vector<Variable*> ps;
  const int64_t Dir = rnn.options().bidirectional ? 2 : 1;
  for (int64_t l = 0; l < rnn.options().num_layers; ++l)
    for (int64_t d = 0; d < Dir; ++d) {
      nn::Recurrent::Weights& w = rnn.weights(l, d);
      for (Variable* p : {&w.weight_ih, &w.weight_hh, &w.bias_ih, &w.bias_hh})
        if (p->defined()) ps.push_back(p);
    }
  return ps;
}

// x with time steps t >= lengths[b] overwritten by junk, so a leak would show.
Tensor pad_with_junk(Tensor x, const std::vector<int64_t>& lengths, Generator& gen) {
  for (int64_t b = 0; b < x.size(0); ++b)
    if (lengths[b] < x.size(1)) {
      Tensor tail = slice(select(x, 0, b), 0, lengths[b], x.size(1));
      copy_(tail, normal(tail.shape(), 0.0f, 5.0f, gen));
    }
  return x;
}

// Sequence b's first `length` steps as a batch of one: (1, length, I).
Tensor alone(const Tensor& x, int64_t b, int64_t length) {
  return contiguous(slice(slice(x, 0, b, b + 1), 1, 0, length));
}

// One batch row of a state (L*Dir, B, Hid), as (L*Dir, 1, Hid).
Tensor state_of(const Tensor& s, int64_t b) { return slice(s, 1, b, b + 1); }

// Time reversed: (B, T, ...) -> (B, T, ...) with step t at T-1-t.
Tensor flip_time(const Tensor& x) {
  std::vector<Tensor> steps;
  for (int64_t t = x.size(1) - 1; t >= 0; --t) steps.push_back(select(x, 1, t));
  return stack(steps, 1);
}

}  // namespace

// ------------------------------------------------------------- cells: values
TEST_CASE("RNNCell computes tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): hand-computed 1x1 case") {
  nn::RNNCell cell({.input_size = 1, .hidden_size = 1});
  set_1x1(cell, {0.5f}, {0.3f}, {0.1f}, {-0.2f});
  // tanh(0.5*1.5 + 0.1 + 0.3*(-0.5) - 0.2) = tanh(0.5); tanh(-0.5 + 0.1 + 0.075 - 0.2) = tanh(-0.525)
  Tensor h = cell.forward(column({1.5f, -1.0f}), column({-0.5f, 0.25f})).value();
  CHECK(allclose(h, column({0.462117157f, -0.481549798f}), 1e-6f, 1e-7f));
}

TEST_CASE("GRUCell matches hand-computed values, gates (r, z, n), r applied to W_hn h + b_hn") {
  nn::GRUCell cell({.input_size = 1, .hidden_size = 1});
  set_1x1(cell, {0.5f, -0.4f, 0.8f}, {0.3f, 0.6f, -0.7f}, {0.1f, 0.2f, -0.3f}, {-0.2f, 0.1f, 0.4f});
  // Row 0: x = 1.5, h = -0.5
  //   r = sigmoid(0.75 + 0.1 - 0.15 - 0.2)         = sigmoid(0.5)  = 0.62245933
  //   z = sigmoid(-0.6 + 0.2 - 0.3 + 0.1)          = sigmoid(-0.6) = 0.35434369
  //   n = tanh(1.2 - 0.3 + r * (0.35 + 0.4))        = 0.87797106
  //   h' = (1 - z) n + z h                          = 0.38969570
  // Row 1: x = -1, h = 0.25: r = 0.37168381, z = 0.70056714, n = -0.76838435, h' = -0.054937735
  Tensor h = cell.forward(column({1.5f, -1.0f}), column({-0.5f, 0.25f})).value();
  CHECK(allclose(h, column({0.389695703f, -0.0549377353f}), 1e-6f, 1e-7f));
}

TEST_CASE("LSTMCell matches hand-computed values, gates (i, f, g, o)") {
  nn::LSTMCell cell({.input_size = 1, .hidden_size = 1});
  set_1x1(cell, {0.5f, -0.4f, 0.8f, 0.3f}, {0.2f, 0.6f, -0.7f, 0.1f}, {0.1f, 0.2f, -0.3f, 0.05f},
          {-0.2f, 0.1f, 0.4f, 0.0f});
  // Row 0: x = 1.5, h = -0.5, c = 0.8
  //   i = sigmoid(0.75 + 0.1 - 0.1 - 0.2)   = 0.63413559
  //   f = sigmoid(-0.6 + 0.2 - 0.3 + 0.1)   = 0.35434369
  //   g = tanh(1.2 - 0.3 + 0.35 + 0.4)      = 0.92885762
  //   o = sigmoid(0.45 + 0.05 - 0.05 + 0)   = 0.61063923
  //   c' = f c + i g = 0.87249663           h' = o tanh(c') = 0.42905979
  // Row 1: x = -1, h = 0.25, c = -0.3: c' = -0.46770415, h' = -0.19372999
  nn::LSTMState s = cell.forward(column({1.5f, -1.0f}), {column({-0.5f, 0.25f}), column({0.8f, -0.3f})});
  CHECK(allclose(s.c.value(), column({0.872496632f, -0.467704151f}), 1e-6f, 1e-7f));
  CHECK(allclose(s.h.value(), column({0.429059787f, -0.193729985f}), 1e-6f, 1e-7f));
}

TEST_CASE("Cells match the scalar reference at their random initial weights (I = 3, Hid = 4)") {
  Generator gen(1);
  Tensor x = randn({2, 3}, gen), h = randn({2, 4}, gen), c = randn({2, 4}, gen);
  nn::RNNCell rnn({.input_size = 3, .hidden_size = 4, .seed = 1});
  nn::GRUCell gru({.input_size = 3, .hidden_size = 4, .seed = 2});
  nn::LSTMCell lstm({.input_size = 3, .hidden_size = 4, .seed = 3});
  Tensor h_rnn = rnn.forward(x, h).value(), h_gru = gru.forward(x, h).value();
  nn::LSTMState s = lstm.forward(x, {h, c});
  for (int64_t b = 0; b < 2; ++b) {
    check_row(h_rnn, b, ref_rnn(rnn, row(x, b), row(h, b)));
    check_row(h_gru, b, ref_gru(gru, row(x, b), row(h, b)));
    auto [h2, c2] = ref_lstm(lstm, row(x, b), row(h, b), row(c, b));
    check_row(s.h.value(), b, h2);
    check_row(s.c.value(), b, c2);
  }
}

TEST_CASE("Cells without bias hold only the two weights and match the reference") {
  nn::GRUCell gru({.input_size = 3, .hidden_size = 2, .bias = false});
  CHECK(names_of(gru) == std::vector<std::string>{"weight_ih", "weight_hh"});
  Generator gen(2);
  Tensor x = randn({1, 3}, gen), h = randn({1, 2}, gen);
  check_row(gru.forward(x, h).value(), 0, ref_gru(gru, row(x, 0), row(h, 0)));
}

TEST_CASE("A cell given no state starts from zeros") {
  Generator gen(3);
  Tensor x = randn({2, 3}, gen);
  nn::GRUCell gru({.input_size = 3, .hidden_size = 4});
  CHECK(equal(gru.forward(x).value(), gru.forward(x, zeros({2, 4})).value()));
  nn::LSTMCell lstm({.input_size = 3, .hidden_size = 4});
  nn::LSTMState a = lstm.forward(x), b = lstm.forward(x, {zeros({2, 4}), zeros({2, 4})});
  CHECK(equal(a.h.value(), b.h.value()));
  CHECK(equal(a.c.value(), b.c.value()));
}

// ------------------------------------------------------------- cells: gradients
TEST_CASE("RNNCell, GRUCell and LSTMCell pass gradcheck for x, the state and all four parameters") {
  Generator gen(4);
  Tensor x = randn({2, 3}, gen), h = randn({2, 4}, gen), c = randn({2, 4}, gen);
  nn::RNNCell rnn({.input_size = 3, .hidden_size = 4});
  CHECK(
      gradcheck_layer(cell_parameters(rnn), [&](const auto& v) { return rnn.forward(v[0], v[1]); }, {x, h}));
  nn::GRUCell gru({.input_size = 3, .hidden_size = 4});
  CHECK(
      gradcheck_layer(cell_parameters(gru), [&](const auto& v) { return gru.forward(v[0], v[1]); }, {x, h}));
  nn::LSTMCell lstm({.input_size = 3, .hidden_size = 4});
  CHECK(gradcheck_layer(cell_parameters(lstm),
                        [&](const auto& v) {
                          nn::LSTMState s = lstm.forward(v[0], {v[1], v[2]});
                          return cat({s.h, s.c}, 1);
                        },
                        {x, h, c}));
}

// ------------------------------------------------------------- layers: parameters
TEST_CASE("GRU registers PyTorch's parameter names, shapes and order") {
  nn::GRU gru({.input_size = 3, .hidden_size = 4, .num_layers = 2, .bidirectional = true});
  std::vector<std::pair<std::string, Shape>> want{{"weight_ih_l0", {12, 3}},
                                                  {"weight_hh_l0", {12, 4}},
                                                  {"bias_ih_l0", {12}},
                                                  {"bias_hh_l0", {12}},
                                                  {"weight_ih_l0_reverse", {12, 3}},
                                                  {"weight_hh_l0_reverse", {12, 4}},
                                                  {"bias_ih_l0_reverse", {12}},
                                                  {"bias_hh_l0_reverse", {12}},
                                                  {"weight_ih_l1", {12, 8}},
                                                  {"weight_hh_l1", {12, 4}},
                                                  {"bias_ih_l1", {12}},
                                                  {"bias_hh_l1", {12}},
                                                  {"weight_ih_l1_reverse", {12, 8}},
                                                  {"weight_hh_l1_reverse", {12, 4}},
                                                  {"bias_ih_l1_reverse", {12}},
                                                  {"bias_hh_l1_reverse", {12}}};
  auto got = gru.named_parameters();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got[i].first == want[i].first);
    CHECK(got[i].second.shape() == want[i].second);
  }
}

TEST_CASE("LSTM has 4 gates of rows, RNN 1, and bias = false drops the biases") {
  nn::LSTM lstm({.input_size = 3, .hidden_size = 5});
  CHECK(lstm.weights(0, 0).weight_ih.shape() == Shape{20, 3});
  CHECK(lstm.weights(0, 0).weight_hh.shape() == Shape{20, 5});
  nn::RNN rnn({.input_size = 3, .hidden_size = 5, .num_layers = 2, .bias = false});
  CHECK(names_of(rnn) ==
        std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "weight_ih_l1", "weight_hh_l1"});
  CHECK(rnn.weights(1, 0).weight_ih.shape() == Shape{5, 5});
}

TEST_CASE("Every recurrent parameter starts in U(-1/sqrt(Hid), 1/sqrt(Hid)), fixed by the seed") {
  nn::LSTM a({.input_size = 3, .hidden_size = 16, .num_layers = 2, .seed = 5}),
      b({.input_size = 3, .hidden_size = 16, .num_layers = 2, .seed = 5});
  float largest = 0.0f;
  for (const Variable& p : a.parameters())
    for (float v : p.value().to_vector()) largest = std::max(largest, std::fabs(v));
  CHECK(largest <= 0.25f);
  CHECK(largest > 0.24f);  // and the range is used: 3000 draws reach near the bound
  auto pa = a.parameters(), pb = b.parameters();
  for (size_t i = 0; i < pa.size(); ++i) CHECK(equal(pa[i].value(), pb[i].value()));
}

// ------------------------------------------------------------- layers: values
TEST_CASE("A one-layer GRU is its cell unrolled over time; h_n is the last step's state") {
  nn::GRU gru({.input_size = 3, .hidden_size = 4, .seed = 6});
  nn::GRUCell cell({.input_size = 3, .hidden_size = 4});
  const nn::Recurrent::Weights& w = gru.weights(0, 0);
  cell.weight_ih.set_value(w.weight_ih.value());
  cell.weight_hh.set_value(w.weight_hh.value());
  cell.bias_ih.set_value(w.bias_ih.value());
  cell.bias_hh.set_value(w.bias_hh.value());
  Generator gen(7);
  Tensor x = randn({2, 5, 3}, gen), h0 = randn({1, 2, 4}, gen);
  nn::RNNOutput out = gru.forward(x, h0);
  REQUIRE(out.output.shape() == Shape{2, 5, 4});
  REQUIRE(out.h_n.shape() == Shape{1, 2, 4});
  Variable h = select(h0, 0, 0);
  for (int64_t t = 0; t < 5; ++t) {
    h = cell.forward(select(x, 1, t), h);
    CHECK(allclose(select(out.output.value(), 1, t), h.value(), 1e-5f, 1e-6f));
  }
  CHECK(allclose(select(out.h_n.value(), 0, 0), h.value(), 1e-5f, 1e-6f));
}

TEST_CASE("A bidirectional layer's reverse half is a forward layer run on the time-reversed input") {
  nn::LSTM bi({.input_size = 3, .hidden_size = 4, .bidirectional = true, .seed = 8});
  nn::LSTM backward_only({.input_size = 3, .hidden_size = 4});
  auto from = bi.weights(0, 1);
  auto& to = backward_only.weights(0, 0);
  to.weight_ih.set_value(from.weight_ih.value());
  to.weight_hh.set_value(from.weight_hh.value());
  to.bias_ih.set_value(from.bias_ih.value());
  to.bias_hh.set_value(from.bias_hh.value());
  Generator gen(9);
  Tensor x = randn({2, 5, 3}, gen);
  nn::LSTMOutput both = bi.forward(x), back = backward_only.forward(flip_time(x));
  REQUIRE(both.output.shape() == Shape{2, 5, 8});
  CHECK(allclose(slice(both.output.value(), 2, 4, 8), flip_time(back.output.value()), 1e-5f, 1e-6f));
  CHECK(allclose(select(both.h_n.value(), 0, 1), select(back.h_n.value(), 0, 0), 1e-5f, 1e-6f));
  CHECK(allclose(select(both.c_n.value(), 0, 1), select(back.c_n.value(), 0, 0), 1e-5f, 1e-6f));
}

TEST_CASE(
    "h_n lists each layer and direction's final state in PyTorch's order: l0, l0_reverse, l1, l1_reverse") {
  nn::GRU gru({.input_size = 3, .hidden_size = 4, .num_layers = 2, .bidirectional = true});
  Generator gen(10);
  nn::RNNOutput out = gru.forward(randn({2, 5, 3}, gen));
  REQUIRE(out.h_n.shape() == Shape{4, 2, 4});
  Tensor y = out.output.value();  // the last layer's: (B, T, 2H)
  CHECK(equal(select(out.h_n.value(), 0, 2), slice(select(y, 1, 4), 1, 0, 4)));  // forward ends at t = T-1
  CHECK(equal(select(out.h_n.value(), 0, 3), slice(select(y, 1, 0), 1, 4, 8)));  // reverse ends at t = 0
}

// ------------------------------------------------------------- layers: padding
TEST_CASE("Padding never leaks: each padded sequence ends in the state it reaches when run alone, unpadded") {
  Generator gen(11);
  const std::vector<int64_t> lengths{5, 2, 3};
  Tensor x = pad_with_junk(randn({3, 5, 3}, gen), lengths, gen);
  Tensor h0 = randn({4, 3, 4}, gen), c0 = randn({4, 3, 4}, gen);
  const nn::RNNOptions options{
      .input_size = 3, .hidden_size = 4, .num_layers = 2, .bidirectional = true, .seed = 12};
  nn::RNN rnn(options);
  nn::GRU gru(options);
  nn::LSTM lstm(options);
  nn::RNNOutput r = rnn.forward(x, h0, lengths);
  nn::RNNOutput g = gru.forward(x, h0, Tensor{5, 2, 3});  // lengths as a Tensor too
  nn::LSTMOutput l = lstm.forward(x, {h0, c0}, lengths);
  for (int64_t b = 0; b < 3; ++b) {
    CAPTURE(b);
    Tensor xb = alone(x, b, lengths[b]);
    nn::RNNOutput r1 = rnn.forward(xb, state_of(h0, b));
    nn::RNNOutput g1 = gru.forward(xb, state_of(h0, b));
    nn::LSTMOutput l1 = lstm.forward(xb, {state_of(h0, b), state_of(c0, b)});
    CHECK(allclose(state_of(r.h_n.value(), b), r1.h_n.value(), 1e-5f, 1e-6f));
    CHECK(allclose(state_of(g.h_n.value(), b), g1.h_n.value(), 1e-5f, 1e-6f));
    CHECK(allclose(state_of(l.h_n.value(), b), l1.h_n.value(), 1e-5f, 1e-6f));
    CHECK(allclose(state_of(l.c_n.value(), b), l1.c_n.value(), 1e-5f, 1e-6f));
    // The valid steps' outputs agree too, both directions.
    CHECK(allclose(alone(g.output.value(), b, lengths[b]), g1.output.value(), 1e-5f, 1e-6f));
    CHECK(allclose(alone(l.output.value(), b, lengths[b]), l1.output.value(), 1e-5f, 1e-6f));
  }
}

TEST_CASE("Outputs at padded steps are zero; a batch with no padding ignores its lengths") {
  Generator gen(13);
  nn::GRU gru({.input_size = 3, .hidden_size = 4, .bidirectional = true});
  Tensor x = randn({2, 4, 3}, gen);
  Tensor y = gru.forward(x, {}, {4, 1}).output.value();
  CHECK(equal(slice(select(y, 0, 1), 0, 1, 4), zeros({3, 8})));
  CHECK(equal(gru.forward(x, {}, {4, 4}).output.value(), gru.forward(x).output.value()));
}

// ------------------------------------------------------------- layers: gradients
TEST_CASE("RNN, GRU and LSTM layers pass gradcheck: 2 layers, bidirectional, with h0 and lengths") {
  Generator gen(14);
  const std::vector<int64_t> lengths{3, 1};
  Tensor x = randn({2, 3, 2}, gen), h0 = randn({4, 2, 3}, gen), c0 = randn({4, 2, 3}, gen);
  const nn::RNNOptions options{
      .input_size = 2, .hidden_size = 3, .num_layers = 2, .bidirectional = true, .seed = 15};
  // Both results matter: the output (B, T, 2H) and every final state.
  nn::RNN rnn(options);
  CHECK(gradcheck_layer(layer_parameters(rnn),
                        [&](const auto& v) {
                          nn::RNNOutput o = rnn.forward(v[0], v[1], lengths);
                          return cat({flatten(o.output), flatten(o.h_n)}, 0);
                        },
                        {x, h0}));
  nn::GRU gru(options);
  CHECK(gradcheck_layer(layer_parameters(gru),
                        [&](const auto& v) {
                          nn::RNNOutput o = gru.forward(v[0], v[1], lengths);
                          return cat({flatten(o.output), flatten(o.h_n)}, 0);
                        },
                        {x, h0}));
  nn::LSTM lstm(options);
  CHECK(gradcheck_layer(layer_parameters(lstm),
                        [&](const auto& v) {
                          nn::LSTMOutput o = lstm.forward(v[0], {v[1], v[2]}, lengths);
                          return cat({flatten(o.output), flatten(o.h_n), flatten(o.c_n)}, 0);
                        },
                        {x, h0, c0}));
}

TEST_CASE("A padded step gets no gradient: nothing after a sequence's length reaches the loss") {
  nn::GRU gru({.input_size = 2, .hidden_size = 3, .bidirectional = true});
  Generator gen(16);
  Variable x(randn({2, 4, 2}, gen), true);
  nn::RNNOutput o = gru.forward(x, {}, {4, 2});
  sum(o.output * o.output).backward();
  CHECK(equal(slice(select(x.grad(), 0, 1), 0, 2, 4), zeros({2, 2})));
}

// ------------------------------------------------------------- describe, errors
TEST_CASE("Recurrent layers describe themselves with their options") {
  CHECK(nn::GRUCell({.input_size = 4, .hidden_size = 3}).describe() ==
        "GRUCell(input_size=4, hidden_size=3, bias=true)");
  CHECK(nn::RNNCell({.input_size = 4, .hidden_size = 3}).describe() ==
        "RNNCell(input_size=4, hidden_size=3, bias=true)");
  CHECK(nn::LSTMCell({.input_size = 4, .hidden_size = 3, .bias = false}).describe() ==
        "LSTMCell(input_size=4, hidden_size=3, bias=false)");
  CHECK(nn::GRU({.input_size = 4, .hidden_size = 3, .num_layers = 2, .bidirectional = true}).describe() ==
        "GRU(input_size=4, hidden_size=3, num_layers=2, bias=true, bidirectional=true)");
  CHECK(nn::LSTM({.input_size = 4, .hidden_size = 3}).describe() ==
        "LSTM(input_size=4, hidden_size=3, num_layers=1, bias=true, bidirectional=false)");
}

TEST_CASE("Recurrent layers name themselves and the shapes when given the wrong input") {
  nn::GRUCell cell({.input_size = 4, .hidden_size = 3});
  CHECK_THROWS_WITH_AS(cell.forward(zeros({2, 5})),
                       "GRUCell(input_size=4, hidden_size=3, bias=true): expected x (B, 4), got (2, 5)",
                       Error);
  CHECK_THROWS_WITH_AS(cell.forward(zeros({2, 4}), zeros({3, 3})),
                       "GRUCell(input_size=4, hidden_size=3, bias=true): expected h (2, 3), got (3, 3)",
                       Error);
  nn::GRU gru({.input_size = 4, .hidden_size = 3, .num_layers = 2});
  const std::string name = "GRU(input_size=4, hidden_size=3, num_layers=2, bias=true, bidirectional=false)";
  CHECK_THROWS_WITH_AS(gru.forward(zeros({2, 5, 3})),
                       (name + ": expected x (B, T, 4) with T >= 1, got (2, 5, 3)").c_str(), Error);
  CHECK_THROWS_WITH_AS(gru.forward(zeros({2, 5, 4}), zeros({1, 2, 3})),
                       (name + ": expected h0 (2, 2, 3), got (1, 2, 3)").c_str(), Error);
  CHECK_THROWS_WITH_AS(gru.forward(zeros({2, 5, 4}), {}, {5, 6}),
                       (name + ": length 6 of sequence 1 is outside [0, 5]").c_str(), Error);
  CHECK_THROWS_WITH_AS(gru.forward(zeros({2, 5, 4}), {}, {5}),
                       (name + ": got 1 lengths for a batch of 2").c_str(), Error);
  CHECK_THROWS_WITH_AS(nn::Lengths(Tensor{1.5f}), "Lengths: 1.5 is not a whole number", Error);
}
