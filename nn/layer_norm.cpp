#include "nn/layer_norm.h"

#include "autograd/ops.h"

namespace heed::nn {

LayerNorm::LayerNorm(const LayerNormOptions& options) : UnaryModule("LayerNorm"), options_(options) {
  HEED_CHECK(options.normalized_shape > 0, "LayerNorm: normalized_shape must be positive, got ",
             options.normalized_shape);
  weight = register_parameter("weight", ones({options.normalized_shape}));
  bias = register_parameter("bias", zeros({options.normalized_shape}));
}

Variable LayerNorm::forward(const Variable& x) {
  HEED_CHECK(x.dim() >= 1 && x.size(-1) == options_.normalized_shape, describe(), ": expected input (..., ",
             options_.normalized_shape, "), got ", x.shape());
  return layer_norm(x, weight, bias, options_.eps);
}

std::string LayerNorm::describe() const {
  return detail::concat("LayerNorm(normalized_shape=", options_.normalized_shape, ", eps=", options_.eps,
                        ")");
}

}  // namespace heed::nn
