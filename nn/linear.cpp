#include "nn/linear.h"

#include "autograd/ops.h"
#include "nn/init.h"

namespace heed::nn {

// One node, not matmul then add: the kernel adds the bias as it stores the
// product, so a layer makes one (..., out) tensor instead of two (the product,
// then the sum) and walks it once. Its backward is matmul's two products plus
// a column sum:
//   dx = grad W: (..., out)(out, in),  dW = gradᵀ x over all rows: (out, rows)(rows, in),
//   db = sum of grad over all rows.
// x is saved only if W needs a gradient, and W only if x does.
Variable linear(const Variable& x, const Variable& weight, const Variable& bias) {
  // x: (..., in) @ weightᵀ: (in, out) -> (..., out); matmul reads the
  // transposed view as a transposed operand.
  const Tensor wt = transpose(weight.value(), 0, 1);
  Tensor y = bias.defined() ? matmul(x.value(), wt, bias.value()) : matmul(x.value(), wt);
  std::vector<Variable> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (!would_record(inputs)) return y;
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad(),
             need_b = bias.defined() && bias.requires_grad();
  return record("linear", y, inputs,
                [need_b, has_bias = bias.defined(), sx = x.shape(), in = weight.size(1), out = weight.size(0),
                 xv = Saved(need_w ? x.value() : Tensor(), "its input 0"),
                 wv = Saved(need_x ? weight.value() : Tensor(), "its input 1 (weight)")](const Tensor& grad) {
                  Grads grads(has_bias ? 3 : 2);
                  if (const Tensor& w = wv; w.defined()) grads[0] = reshape(matmul(grad, w), sx);
                  Tensor g_rows = reshape(grad, {-1, out});
                  if (const Tensor& x = xv; x.defined())
                    grads[1] = matmul(transpose(g_rows, 0, 1), reshape(x, {-1, in}));
                  if (need_b) grads[2] = sum(g_rows, {0});
                  return grads;
                });
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
