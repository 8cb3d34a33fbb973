#include "nn/sequential.h"

namespace heed::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<UnaryModule>> modules) : Sequential() {
  for (const auto& module : modules) push_back(module);
}

Variable Sequential::forward(const Variable& x) {
  Variable y = x;
  for (const auto& module : modules_) y = module->forward(y);
  return y;
}

std::string Sequential::describe() const { return detail::concat("Sequential(size=", size(), ")"); }

UnaryModule& Sequential::operator[](int64_t i) const {
  HEED_CHECK(i >= 0 && i < size(), "Sequential: index ", i, " out of range for ", size(), " modules");
  return *modules_[i];
}

}  // namespace heed::nn
