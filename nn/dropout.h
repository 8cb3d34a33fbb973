// Dropout: in training, zeros each element with probability p and scales the
// survivors by 1 / (1 - p), so the expected value is unchanged and eval needs
// no rescaling; in eval mode (module.eval()) it is the identity.
//
// Each Dropout owns its Generator, so two Dropout layers never share one mask
// stream, and a run is reproducible from their seeds (or one manual_seed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"
#include "tensor/random.h"

namespace heed::nn {

struct DropoutOptions {
  float p = 0.5f;
  // The mask stream's seed; without one (and without a Generator&) the layer
  // draws its seed from the default generator (heed::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
};

class Dropout : public UnaryModule {
 public:
  explicit Dropout(const DropoutOptions& options);
  // Seeds this layer's own stream with a draw from `gen`.
  Dropout(const DropoutOptions& options, Generator& gen);

  // x: any shape  ->  the same shape
  Variable forward(const Variable& x) override;
  // The same, written over x when x is a temporary nothing else holds
  // (autograd's dropout(Variable&&)).
  Variable forward(Variable&& x);
  std::string describe() const override;

  const DropoutOptions& options() const { return options_; }
  // The stream each forward draws its mask's seed from (one next_u64()); a
  // kernel that drops inside itself (fused attention) draws from it likewise.
  Generator& generator() { return gen_; }

 private:
  DropoutOptions options_;
  Generator gen_;
};

}  // namespace heed::nn
