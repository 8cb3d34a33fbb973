// Test helper: gradcheck a layer with respect to its input(s) and every parameter.
//
// gradcheck hands f fresh leaves for all its inputs, so while f runs the
// layer's parameter members (fc.weight, cell.weight_ih, ...) are pointed at
// those leaves; they are put back afterwards. The parameter tensors themselves
// are passed in, so gradcheck perturbs the layer's own values and restores them.
#pragma once

#include <functional>
#include <vector>

#include "autograd/gradcheck.h"

namespace heed::testing {

inline GradcheckResult gradcheck_layer(const std::vector<Variable*>& params,
                                       const std::function<Variable(const std::vector<Variable>&)>& forward,
                                       const std::vector<Tensor>& inputs) {
  std::vector<Variable> saved;
  std::vector<Tensor> all = inputs;
  for (Variable* p : params) {
    saved.push_back(*p);
    all.push_back(p->value());
  }
  const size_t n = inputs.size();
  GradcheckResult result = gradcheck(
      [&](const std::vector<Variable>& v) {
        for (size_t i = 0; i < params.size(); ++i) *params[i] = v[n + i];
        return forward({v.begin(), v.begin() + n});
      },
      all);
  for (size_t i = 0; i < params.size(); ++i) *params[i] = saved[i];
  return result;
}

}  // namespace heed::testing
