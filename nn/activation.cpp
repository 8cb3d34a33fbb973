#include "nn/activation.h"

#include "autograd/ops.h"

namespace heed::nn {

Variable ReLU::forward(const Variable& x) { return heed::relu(x); }
Variable GELU::forward(const Variable& x) { return heed::gelu(x); }
Variable Tanh::forward(const Variable& x) { return heed::tanh(x); }
Variable Sigmoid::forward(const Variable& x) { return heed::sigmoid(x); }
Variable ELU::forward(const Variable& x) { return heed::elu(x, alpha); }
std::string ELU::describe() const { return detail::concat("ELU(alpha=", alpha, ")"); }

}  // namespace heed::nn
