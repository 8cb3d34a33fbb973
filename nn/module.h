// Module: the base of every layer and model.
//
// A Module owns named parameters, named buffers and named child modules,
// registered in its constructor, so that every model gets parameters(),
// named_parameters() with dotted names ("encoder.layers.0.self_attn.q_proj.weight"),
// named_buffers(), train()/eval(), zero_grad(), save()/load() and printing for free:
//
//   struct Mlp : nn::Module {
//     std::shared_ptr<nn::Linear> fc1, fc2;
//     Mlp() : Module("Mlp") {
//       fc1 = register_module("fc1", std::make_shared<nn::Linear>(
//                                        nn::LinearOptions{.in_features = 2, .out_features = 16}));
//       fc2 = register_module("fc2", std::make_shared<nn::Linear>(
//                                        nn::LinearOptions{.in_features = 16, .out_features = 2}));
//     }
//     Variable forward(const Variable& x) { return fc2->forward(relu(fc1->forward(x))); }
//   };
//
// Children are held by shared_ptr (as in the PyTorch C++ frontend), and
// parameters and buffers are handles to shared storage, so a module can be
// moved: the new one holds exactly what the old one held, and the old one is
// left empty. That is what lets Sequential take layers built in place,
// nn::Sequential(nn::Linear({...}), nn::Tanh()). A module is never copied (a
// copy would share its parameters without saying so) and never move-assigned.
//
// A buffer is state that is not learned: a causal mask, a sinusoidal table,
// running statistics. It is saved and loaded with the parameters, printed in
// the tree, but never handed to an optimizer (parameters() leaves it out) and
// never given a gradient. Change one in place (copy_, fill_), so that the
// registered tensor, which save() writes, is the one that changed.
//
// A name is one non-empty segment without dots, unique among a module's
// parameters, buffers and children (a repeat is a heed::Error naming it). A
// parameter or buffer reached twice (one child registered under two parents)
// is listed once, under its first name, so optimizers and checkpoints see it once.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/variable.h"

namespace heed::nn {

struct LoadOptions {
  // Strict: the file and the module must hold exactly the same names.
  bool strict = true;
};

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = delete;

  // All parameters: this module's own, then each child's, in registration order.
  std::vector<Variable> parameters() const;
  std::vector<std::pair<std::string, Variable>> named_parameters() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // This module's own parameters (not its children's), under their local names.
  const std::vector<std::pair<std::string, Variable>>& own_parameters() const { return parameters_; }

  // All buffers, named and ordered like named_parameters().
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  const std::vector<std::pair<std::string, Tensor>>& own_buffers() const { return buffers_; }

  // Training mode (dropout active) or evaluation mode; applies to all children.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();
  int64_t num_parameters() const;

  // Checkpoints in the safetensors format (nn/io/safetensors.h), one tensor
  // per named parameter and per named buffer, under their dotted names. save()
  // never leaves a half-written file. load() checks every name and shape first
  // and changes nothing on error: differing shapes are always an error (listing
  // each with both shapes); missing and unexpected names are an error when
  // options.strict, listed together (a renamed layer shows up in both lists).
  void save(const std::string& path) const;
  void load(const std::string& path, const LoadOptions& options = {});
  // The same in memory (PyTorch's names): the live parameter values and buffers under
  // their dotted names, the tensors save() writes; and loading from such a
  // list, with load()'s checks. `source` names the list in error messages.
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  void load_state_dict(const std::vector<std::pair<std::string, Tensor>>& state,
                       const LoadOptions& options = {}, const std::string& source = "a state dict");

  // "Linear(in_features=4, out_features=3, bias=true)": the type and its options, for printing.
  virtual std::string describe() const { return type_name_; }
  const std::string& type_name() const { return type_name_; }

 protected:
  // A parameter: a leaf Variable that requires a gradient.
  Variable register_parameter(std::string name, Tensor value);
  // A buffer: a Tensor saved with the parameters but never trained. Returns the
  // registered tensor (a contiguous copy when `value` is not contiguous).
  Tensor register_buffer(std::string name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }

 private:
  void add_child(std::string name, std::shared_ptr<Module> module);
  void check_free(const std::string& name, const char* what) const;
  // Every module of the tree, depth first in registration order, with its
  // dotted prefix ("" for this one, "encoder.layers.0." further down).
  std::vector<std::pair<const Module*, std::string>> modules_with_prefixes() const;

  std::string type_name_;
  std::vector<std::pair<std::string, Variable>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// The module as a tree, parameter counts right-aligned, then the total (a
// buffer gets a line of its own, with no count):
//   Mlp                                                       82
//     fc1: Linear(in_features=2, out_features=16, bias=true)  48
//       weight (16, 2)                                        32
//     ...
//   total parameters: 82
std::ostream& operator<<(std::ostream& out, const Module& module);

}  // namespace heed::nn
