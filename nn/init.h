// Weight initialization: the schemes that keep activations and gradients at a
// steady scale from layer to layer, drawn from a seeded heed::Generator.
//
// Fans follow PyTorch (torch.nn.init._calculate_fan_in_and_fan_out), for a
// weight stored (out, in, k1, k2, ...) as heed's and PyTorch's layers store it:
//
//   receptive = k1 * k2 * ...        (1 for a matrix)
//   fan_in    = in  * receptive      (size(1) * receptive)
//   fan_out   = out * receptive      (size(0) * receptive)
//
// A tensor with fewer than 2 dimensions has no fans (an error), as in PyTorch.
//
//   Xavier/Glorot (2010), keeps the variance equal forward and backward:
//     uniform: U(-b, b),  b   = gain * sqrt(6 / (fan_in + fan_out))
//     normal:  N(0, s^2), s   = gain * sqrt(2 / (fan_in + fan_out))
//   Kaiming/He (2015), keeps the variance through ReLU-like layers:
//     s = gain / sqrt(fan)   with fan = fan_in (default) or fan_out
//     uniform: U(-b, b),  b = sqrt(3) * s      normal: N(0, s^2)
//
// Example: weight = register_parameter("weight", init::xavier_uniform({out, in}, gen));
#pragma once

#include <cstdint>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace heed::nn::init {

struct Fans {
  int64_t fan_in;
  int64_t fan_out;
};
Fans compute_fans(const Shape& shape);

enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu, selu };
enum class FanMode { fan_in, fan_out };

// The gain that keeps the variance through `nonlinearity` (torch.nn.init.calculate_gain):
// linear, sigmoid 1; tanh 5/3; relu sqrt(2); leaky_relu sqrt(2 / (1 + slope^2)); selu 3/4.
double gain(Nonlinearity nonlinearity, double negative_slope = 0.01);

Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain = 1.0);
Tensor xavier_normal(const Shape& shape, Generator& gen, double gain = 1.0);

struct KaimingOptions {
  double a = 0.0;  // the negative slope of the leaky_relu that follows
  FanMode mode = FanMode::fan_in;
  Nonlinearity nonlinearity = Nonlinearity::leaky_relu;  // with a = 0, this is ReLU's gain sqrt(2)
};
Tensor kaiming_uniform(const Shape& shape, Generator& gen, const KaimingOptions& options = {});
Tensor kaiming_normal(const Shape& shape, Generator& gen, const KaimingOptions& options = {});

// PyTorch's default for nn.Linear (and, with fan_in = hidden, for its RNNs):
// kaiming_uniform with a = sqrt(5) gives b = sqrt(2/6) * sqrt(3/fan_in)
// = 1/sqrt(fan_in), and the bias uses the same bound. So weight and bias are
// both U(-1/sqrt(fan_in), 1/sqrt(fan_in)), of any `shape`.
Tensor linear_uniform(const Shape& shape, int64_t fan_in, Generator& gen);

}  // namespace heed::nn::init
