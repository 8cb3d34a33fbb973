#include "nn/activation.h"

#include "autograd/ops.h"

namespace heed::nn {

Variable ReLU::forward(const Variable& x) { return heed::relu(x); }
Variable GELU::forward(const Variable& x) { return heed::gelu(x); }
Variable Tanh::forward(const Variable& x) { return heed::tanh(x); }
Variable Sigmoid::forward(const Variable& x) { return heed::sigmoid(x); }

}  // namespace heed::nn
