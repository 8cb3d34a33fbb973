// Optimizers: SGD (with momentum and Nesterov), Adam and AdamW, with PyTorch's
// update rules, and gradient clipping by global norm.
//
//   nn::Adam opt(model.named_parameters(), {.lr = 1e-3});
//   for (...) {
//     opt.zero_grad();
//     loss.backward();
//     nn::clip_grad_norm(model.parameters(), 1.0);
//     opt.step();
//   }
//
// An optimizer holds the parameters by name. Its state (momentum and moment
// buffers, keyed "<parameter>.<buffer>", e.g. "fc1.weight.exp_avg") and its
// scalars (learning rate, step counts) save to a safetensors file, so training
// resumes exactly where it stopped: same floats, bit for bit.
//
// A step runs under NoGradGuard as plain loops over each parameter's floats:
// no graph, no temporaries. A parameter whose grad is undefined (backward never
// reached it) is skipped, as in PyTorch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "nn/io/safetensors.h"

namespace heed::nn {

using NamedParameters = std::vector<std::pair<std::string, Variable>>;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Applies one update to every parameter that has a gradient.
  void step();
  // Drops every parameter's gradient.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // The number of step() calls so far (what a schedule is evaluated at).
  int64_t step_count() const { return step_count_; }
  const NamedParameters& parameters() const { return params_; }
  const std::string& type_name() const { return type_name_; }

  // The state in safetensors: buffers as tensors, scalars in "__metadata__".
  // load() checks the optimizer type and every name and shape before changing anything.
  void save(const std::string& path) const;
  void load(const std::string& path);
  // The same in memory: what save() writes (the live buffers, not copies), and
  // loading it back, copied, with load()'s checks (`source` names it in errors).
  Safetensors state_dict() const;
  void load_state_dict(const Safetensors& state, const std::string& source = "a state dict");

 protected:
  Optimizer(std::string type_name, NamedParameters params, double lr);

  // Updates one parameter in place. `value` and `grad` are contiguous, of one shape.
  virtual void update(const std::string& name, const Tensor& value, const Tensor& grad) = 0;
  // The buffer `key` of parameter `name`, shaped like it; made of zeros on first
  // use, when `fresh` (if given) is set to true.
  float* buffer(const std::string& name, const std::string& key, const Shape& shape, bool* fresh = nullptr);
  // A per-parameter step counter (Adam's t), saved with the state.
  int64_t& counter(const std::string& name) { return counters_[name]; }

 private:
  std::string type_name_;
  NamedParameters params_;
  double lr_;
  int64_t step_count_ = 0;
  std::map<std::string, Tensor> buffers_;    // "<parameter>.<key>"
  std::map<std::string, int64_t> counters_;  // "<parameter>"
};

// Names a plain list of parameters "0", "1", ..., for optimizers built without a Module.
NamedParameters number_parameters(const std::vector<Variable>& params);

// ------------------------------------------------------------- SGD
// PyTorch's torch.optim.SGD, for gradient g of parameter w:
//   g = g + weight_decay * w
//   b = g on the first step, else momentum * b + (1 - dampening) * g
//   g = g + momentum * b  (nesterov)   or   g = b  (plain momentum)
//   w = w - lr * g
// With momentum = 0 the buffer is neither kept nor saved.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(NamedParameters params, const SGDOptions& options);
  SGD(const std::vector<Variable>& params, const SGDOptions& options)
      : SGD(number_parameters(params), options) {}
  const SGDOptions& options() const { return options_; }

 protected:
  void update(const std::string& name, const Tensor& value, const Tensor& grad) override;

 private:
  SGDOptions options_;
};

// ------------------------------------------------------------- Adam, AdamW
// PyTorch's torch.optim.Adam (amsgrad off), at step t of parameter w:
//   g = g + weight_decay * w                 (Adam: L2, folded into the gradient)
//   w = w * (1 - lr * weight_decay)          (AdamW instead: decoupled decay)
//   m = beta1 * m + (1 - beta1) * g          first moment
//   v = beta2 * v + (1 - beta2) * g^2        second moment
//   w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The bias corrections 1 - beta^t undo the zero start of m and v; eps sits
// outside the square root, as in PyTorch.
struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};  // (beta1, beta2), as PyTorch's betas
  double eps = 1e-8;
  double weight_decay = 0.0;
};
// AdamW's default weight decay is 0.01, as in PyTorch.
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};  // (beta1, beta2), as PyTorch's betas
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class Adam : public Optimizer {
 public:
  Adam(NamedParameters params, const AdamOptions& options = {});
  Adam(const std::vector<Variable>& params, const AdamOptions& options = {})
      : Adam(number_parameters(params), options) {}
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::string type_name, NamedParameters params, const AdamOptions& options, bool decoupled);
  void update(const std::string& name, const Tensor& value, const Tensor& grad) override;

 private:
  AdamOptions options_;
  bool decoupled_;  // AdamW
};

class AdamW : public Adam {
 public:
  AdamW(NamedParameters params, const AdamWOptions& options = {});
  AdamW(const std::vector<Variable>& params, const AdamWOptions& options = {})
      : AdamW(number_parameters(params), options) {}
};

// ------------------------------------------------------------- clipping
// Scales all gradients together so their global L2 norm (over every element of
// every gradient) is at most max_norm, by max_norm / (norm + 1e-6) when the
// norm is larger, as torch.nn.utils.clip_grad_norm_. Returns the norm before
// clipping. Parameters without a gradient are ignored.
double clip_grad_norm(const std::vector<Variable>& params, double max_norm);

}  // namespace heed::nn
