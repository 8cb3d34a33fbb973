// Linear: y = x W^T + b, the affine map every network is built from.
//
//   x: (..., in)  weight: (out, in)  bias: (out,)  ->  y: (..., out)
//
// weight is stored (out, in) as in PyTorch, so checkpoints map one to one; the
// forward multiplies by a transposed view of it, never a copy. Initialized as
// PyTorch's nn.Linear: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
#pragma once

#include <cstdint>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

// y = x W^T + b with an undefined bias meaning "no bias": the functional form,
// for layers that keep their own weights (the RNNs, attention projections).
Variable linear(const Variable& x, const Variable& weight, const Variable& bias = {});

struct LinearOptions {
  int64_t in = 0;
  int64_t out = 0;
  bool bias = true;
  uint64_t seed = 0;  // for the initial weights when no Generator is given
};

class Linear : public UnaryModule {
 public:
  explicit Linear(const LinearOptions& options);
  // Draws the initial weights from `gen`, so one model-wide Generator gives
  // every layer different weights.
  Linear(const LinearOptions& options, Generator& gen);

  // x: (..., in)  ->  (..., out)
  Variable forward(const Variable& x) override;
  std::string describe() const override;

  const LinearOptions& options() const { return options_; }
  Variable weight;  // (out, in)
  Variable bias;    // (out,), undefined when options.bias is false

 private:
  void init_parameters(Generator& gen);
  LinearOptions options_;
};

}  // namespace heed::nn
