// Sequential: a chain of one-input modules, each fed the previous one's output.
//
//   nn::Sequential mlp({std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 2, .out_features =
//   16}),
//                       std::make_shared<nn::ReLU>(),
//                       std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 16, .out_features =
//                       2})});
//   Variable logits = mlp.forward(x);  // x: (N, 2) -> (N, 2)
//
// Children are registered under their positions "0", "1", ..., so parameter
// names ("0.weight", "2.bias") match PyTorch's nn.Sequential.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"
#include "nn/unary_module.h"

namespace heed::nn {

class Sequential : public UnaryModule {
 public:
  Sequential() : UnaryModule("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> modules);

  // Appends `module` under the next position and returns it, typed.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    HEED_CHECK(module != nullptr, "Sequential: module ", modules_.size(), " is null");
    modules_.push_back(register_module(std::to_string(modules_.size()), module));
    return module;
  }

  Variable forward(const Variable& x) override;
  std::string describe() const override;

  int64_t size() const { return static_cast<int64_t>(modules_.size()); }
  UnaryModule& operator[](int64_t i) const;

 private:
  std::vector<std::shared_ptr<UnaryModule>> modules_;
};

}  // namespace heed::nn
