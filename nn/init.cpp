#include "nn/init.h"

#include <cmath>

namespace heed::nn::init {

Fans compute_fans(const Shape& shape) {
  HEED_CHECK(shape.size() >= 2, "init: fan_in and fan_out need at least 2 dimensions, got shape ", shape);
  int64_t receptive = 1;
  for (int64_t d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

double gain(Nonlinearity nonlinearity, double negative_slope) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid:
      return 1.0;
    case Nonlinearity::tanh:
      return 5.0 / 3.0;
    case Nonlinearity::relu:
      return std::sqrt(2.0);
    case Nonlinearity::leaky_relu:
      return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
    case Nonlinearity::selu:
      return 3.0 / 4.0;
  }
  return 1.0;
}

namespace {

// U(-bound, bound); the bound is computed in double and rounded once.
Tensor symmetric_uniform(const Shape& shape, double bound, Generator& gen) {
  return uniform(shape, float(-bound), float(bound), gen);
}

double kaiming_std(const Shape& shape, const KaimingOptions& o) {
  Fans fans = compute_fans(shape);
  int64_t fan = o.mode == FanMode::fan_in ? fans.fan_in : fans.fan_out;
  HEED_CHECK(fan > 0, "init: kaiming on shape ", shape, " has a fan of 0");
  return gain(o.nonlinearity, o.a) / std::sqrt(double(fan));
}

}  // namespace

namespace {
Fans xavier_fans(const Shape& shape) {
  Fans fans = compute_fans(shape);
  HEED_CHECK(fans.fan_in + fans.fan_out > 0, "init: xavier on shape ", shape, " has fans of 0");
  return fans;
}
}  // namespace

Tensor xavier_uniform(const Shape& shape, Generator& gen, double gain) {
  Fans fans = xavier_fans(shape);
  return symmetric_uniform(shape, gain * std::sqrt(6.0 / double(fans.fan_in + fans.fan_out)), gen);
}

Tensor xavier_normal(const Shape& shape, Generator& gen, double gain) {
  Fans fans = xavier_fans(shape);
  return normal(shape, 0.0f, float(gain * std::sqrt(2.0 / double(fans.fan_in + fans.fan_out))), gen);
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, const KaimingOptions& options) {
  return symmetric_uniform(shape, std::sqrt(3.0) * kaiming_std(shape, options), gen);
}

Tensor kaiming_normal(const Shape& shape, Generator& gen, const KaimingOptions& options) {
  return normal(shape, 0.0f, float(kaiming_std(shape, options)), gen);
}

Tensor linear_uniform(const Shape& shape, int64_t fan_in, Generator& gen) {
  HEED_CHECK(fan_in > 0, "init: linear_uniform needs fan_in > 0, got ", fan_in);
  return symmetric_uniform(shape, 1.0 / std::sqrt(double(fan_in)), gen);
}

}  // namespace heed::nn::init
