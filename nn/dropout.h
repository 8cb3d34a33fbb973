// Dropout: in training, zeros each element with probability p and scales the
// survivors by 1 / (1 - p), so the expected value is unchanged and eval needs
// no rescaling; in eval mode (module.eval()) it is the identity.
//
// Each Dropout owns its Generator, so a run is reproducible from its seeds
// alone and two Dropout layers never share one mask stream.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

struct DropoutOptions {
  float p = 0.5f;
  uint64_t seed = 0;  // of the mask stream when no Generator is given
};

class Dropout : public UnaryModule {
 public:
  explicit Dropout(const DropoutOptions& options);
  // Seeds this layer's own stream with a draw from `gen`.
  Dropout(const DropoutOptions& options, Generator& gen);

  // x: any shape  ->  the same shape
  Variable forward(const Variable& x) override;
  std::string describe() const override;

  const DropoutOptions& options() const { return options_; }

 private:
  DropoutOptions options_;
  Generator gen_;
};

}  // namespace heed::nn
