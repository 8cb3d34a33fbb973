// LayerNorm: normalizes each vector over its last dim, then scales and shifts.
//
//   x: (..., D)  ->  (x - mean) / sqrt(var + eps) * weight + bias: (..., D),  D = normalized_shape
//
// mean and the biased variance are taken over the last dim only, so every
// token is normalized on its own (no batch statistics, the same in train and
// eval). weight starts at ones and bias at zeros, as in PyTorch. The math and
// its fused backward are autograd's layer_norm.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"

namespace heed::nn {

struct LayerNormOptions {
  int64_t normalized_shape = 0;  // the size of the last dim, the one normalized over
  float eps = 1e-5f;
};

class LayerNorm : public UnaryModule {
 public:
  explicit LayerNorm(const LayerNormOptions& options);

  // x: (..., normalized_shape)  ->  (..., normalized_shape)
  Variable forward(const Variable& x) override;
  std::string describe() const override;

  const LayerNormOptions& options() const { return options_; }
  Variable weight;  // (normalized_shape,)
  Variable bias;    // (normalized_shape,)

 private:
  LayerNormOptions options_;
};

}  // namespace heed::nn
