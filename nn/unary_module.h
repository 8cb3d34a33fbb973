// UnaryModule: a Module whose forward takes one Variable and gives one.
//
// Linear, LayerNorm, Dropout, the activations and Embedding are all of this
// kind, which is what lets Sequential chain them without knowing their types.
#pragma once

#include <string>

#include "autograd/variable.h"
#include "nn/module.h"

namespace heed::nn {

class UnaryModule : public Module {
 public:
  using Module::Module;
  virtual Variable forward(const Variable& x) = 0;
  Variable operator()(const Variable& x) { return forward(x); }
};

}  // namespace heed::nn
