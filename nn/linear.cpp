#include "nn/linear.h"

#include "autograd/ops.h"
#include "nn/init.h"

namespace heed::nn {

Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  // x: (..., in) @ weight^T: (in, out) -> (..., out); matmul reads the
  // transposed view as a transposed operand.
  if (bias.defined() &&
      !would_record({x, weight, bias})) {  // inference: the bias goes into the fresh product in place
    Tensor y = matmul(x.value(), transpose(weight.value(), 0, 1));
    add_(y, bias.value());
    return y;
  }
  Variable y = matmul(x, transpose(weight, 0, 1));
  return bias.defined() ? y + bias : y;
}

Linear::Linear(const LinearOptions& options) : UnaryModule("Linear"), options_(options) {
  Generator gen = generator_from(options.seed);
  init_parameters(gen);
}

Linear::Linear(const LinearOptions& options, Generator& gen) : UnaryModule("Linear"), options_(options) {
  init_parameters(gen);
}

void Linear::init_parameters(Generator& gen) {
  HEED_CHECK(options_.in_features > 0 && options_.out_features > 0,
             "Linear: in_features and out_features must be positive, got in_features=", options_.in_features,
             ", out_features=", options_.out_features);
  weight = register_parameter("weight", init::linear_uniform({options_.out_features, options_.in_features},
                                                             options_.in_features, gen));
  if (options_.bias)
    bias =
        register_parameter("bias", init::linear_uniform({options_.out_features}, options_.in_features, gen));
}

Variable Linear::forward(const Variable& x) {
  HEED_CHECK(x.dim() >= 1 && x.size(-1) == options_.in_features, describe(), ": expected input (..., ",
             options_.in_features, "), got ", x.shape());
  return linear(x, weight, bias);
}

std::string Linear::describe() const {
  return detail::concat("Linear(in_features=", options_.in_features, ", out_features=", options_.out_features,
                        ", bias=", options_.bias ? "true" : "false", ")");
}

}  // namespace heed::nn
