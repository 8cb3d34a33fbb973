#include "nn/layer_norm.h"

#include "autograd/ops.h"

namespace heed::nn {

LayerNorm::LayerNorm(const LayerNormOptions& options) : UnaryModule("LayerNorm"), options_(options) {
  HEED_CHECK(options.dim > 0, "LayerNorm: dim must be positive, got ", options.dim);
  weight = register_parameter("weight", ones({options.dim}));
  bias = register_parameter("bias", zeros({options.dim}));
}

Variable LayerNorm::forward(const Variable& x) {
  HEED_CHECK(x.dim() >= 1 && x.size(-1) == options_.dim, describe(), ": expected input (..., ", options_.dim,
             "), got ", x.shape());
  return layer_norm(x, weight, bias, options_.eps);
}

std::string LayerNorm::describe() const {
  return detail::concat("LayerNorm(dim=", options_.dim, ", eps=", options_.eps, ")");
}

}  // namespace heed::nn
