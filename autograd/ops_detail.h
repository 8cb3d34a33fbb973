// Small tools the backward closures in autograd/ops_*.cpp share (internal).
#pragma once

#include "autograd/variable.h"
#include "tensor/ops.h"

namespace heed::detail {

// The gradient of an input that was broadcast to the output's shape is the
// output's gradient summed back over the repeated dims (free when nothing was).
inline Tensor unbroadcast(const Tensor& grad, const Shape& shape) {
  return grad.shape() == shape ? grad : sum_to(grad, shape);
}

// x's value for an op to write its output over, when x is a temporary handed
// over (Variable&&) that nothing else can see: only x holds its VariableImpl,
// only that holds the storage (no other Variable, view or saved tensor), the
// value is contiguous, and x is not a leaf that takes a gradient. Else undefined.
inline Tensor donated(const Variable& x) {
  const auto& impl = x.impl();
  if (!impl || impl.use_count() != 1) return {};
  const Tensor& v = x.value();
  if (v.storage().use_count() != 1 || !v.is_contiguous() || (x.is_leaf() && x.requires_grad())) return {};
  return v;
}

}  // namespace heed::detail
