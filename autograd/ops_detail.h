// Small tools the backward closures in autograd/ops_*.cpp share (internal).
#pragma once

#include "tensor/ops.h"

namespace heed::detail {

// The gradient of an input that was broadcast to the output's shape is the
// output's gradient summed back over the repeated dims (free when nothing was).
inline Tensor unbroadcast(const Tensor& grad, const Shape& shape) {
  return grad.shape() == shape ? grad : sum_to(grad, shape);
}

}  // namespace heed::detail
