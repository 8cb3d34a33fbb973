// Sequential: a chain of one-input modules, each fed the previous one's output.
//
//   nn::Sequential mlp(nn::Linear({.in_features = 2, .out_features = 16}), nn::ReLU(),
//                      nn::Linear({.in_features = 16, .out_features = 2}));
//   Variable logits = mlp.forward(x);  // x: (B, 2) -> (B, 2)
//
// Each argument is a layer built in place, which the Sequential takes over, or
// a shared_ptr to a layer the caller keeps a hand on:
//
//   auto fc = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 16, .out_features = 2});
//   nn::Sequential mlp(nn::Linear({.in_features = 2, .out_features = 16}), nn::ReLU(), fc);
//
// Children are registered under their positions "0", "1", ..., so parameter
// names ("0.weight", "2.bias") match PyTorch's nn.Sequential.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/variable.h"
#include "nn/unary_module.h"

// In heed::detail, not heed::nn::detail, so nn code's `detail::concat` still
// finds heed::detail.
namespace heed::detail {
template <class M>
struct is_shared_unary : std::false_type {};
template <class M>
struct is_shared_unary<std::shared_ptr<M>> : std::bool_constant<std::derived_from<M, nn::UnaryModule>> {};

// A layer (taken over) or a shared_ptr to one (shared).
template <class M>
concept SequentialItem = std::derived_from<std::remove_cvref_t<M>, nn::UnaryModule> ||
    is_shared_unary<std::remove_cvref_t<M>>::value;
}  // namespace heed::detail

namespace heed::nn {

class Sequential : public UnaryModule {
 public:
  Sequential() : UnaryModule("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> modules);

  template <detail::SequentialItem... Ms>
  requires(sizeof...(Ms) > 0) explicit Sequential(Ms&&... modules) : Sequential() {
    (push_back(adopt(std::forward<Ms>(modules))), ...);
  }

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
  template <class M>
  static auto adopt(M&& module) {
    using T = std::remove_cvref_t<M>;
    if constexpr (detail::is_shared_unary<T>::value) {
      return std::forward<M>(module);
    } else {
      static_assert(
          !std::is_lvalue_reference_v<M>,
          "Sequential takes over a layer built in place, nn::Sequential(nn::Linear({...})); to keep a "
          "hand on a layer, pass a std::shared_ptr to it (std::make_shared), or std::move it in");
      return std::make_shared<T>(std::move(module));
    }
  }

  std::vector<std::shared_ptr<UnaryModule>> modules_;
};

}  // namespace heed::nn
