// Linear: y = x W^T + b, the affine map every network is built from.
//
//   x: (..., in_features)  weight: (out_features, in_features)  bias: (out_features,)
//   ->  y: (..., out_features)
//
// weight is stored (out, in) as in PyTorch, so checkpoints map one to one; the
// forward multiplies by a transposed view of it, never a copy. Initialized as
// PyTorch's nn.Linear: weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

// y = x W^T + b with an undefined bias meaning "no bias": the functional form,
// for layers that keep their own weights (the RNNs, attention projections).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = {});

struct LinearOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  // The initial weights' seed; without one (and without a Generator&) the
  // layer draws its seed from the default generator (heed::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
};

class Linear : public UnaryModule {
 public:
  explicit Linear(const LinearOptions& options);
  // Draws the initial weights from `gen`, so one model-wide Generator gives
  // every layer different weights.
  Linear(const LinearOptions& options, Generator& gen);

  // x: (..., in_features)  ->  (..., out_features)
  Variable forward(const Variable& x) override;
  std::string describe() const override;

  const LinearOptions& options() const { return options_; }
  Variable weight;  // (out_features, in_features)
  Variable bias;    // (out_features,), undefined when options.bias is false

 private:
  void init_parameters(Generator& gen);
  LinearOptions options_;
};

}  // namespace heed::nn
