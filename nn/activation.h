// Activations as modules, for Sequential: each applies its autograd op
// elementwise, so any input shape gives the same shape back.
//
//   ReLU:    max(0, x)
//   GELU:    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (PyTorch's approximate="tanh")
//   Tanh:    tanh(x)
//   Sigmoid: 1 / (1 + exp(-x))
//   ELU:     x for x > 0, alpha (exp(x) - 1) otherwise
#pragma once

#include <string>

#include "autograd/variable.h"
#include "nn/unary_module.h"

namespace heed::nn {

class ReLU : public UnaryModule {
 public:
  ReLU() : UnaryModule("ReLU") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "ReLU()"; }
};

class GELU : public UnaryModule {
 public:
  GELU() : UnaryModule("GELU") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "GELU(approximate=tanh)"; }
};

class Tanh : public UnaryModule {
 public:
  Tanh() : UnaryModule("Tanh") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "Tanh()"; }
};

class Sigmoid : public UnaryModule {
 public:
  Sigmoid() : UnaryModule("Sigmoid") {}
  Variable forward(const Variable& x) override;
  std::string describe() const override { return "Sigmoid()"; }
};

class ELU : public UnaryModule {
 public:
  explicit ELU(float alpha = 1.0f) : UnaryModule("ELU"), alpha(alpha) {}
  Variable forward(const Variable& x) override;
  std::string describe() const override;

  float alpha;
};

}  // namespace heed::nn
