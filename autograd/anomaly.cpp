// Anomaly mode: the checks record() and backward() run when it is on, and the
// messages that point a learner at the op that first went non-finite.
#include "autograd/anomaly.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "autograd/graph.h"
#include "tensor/ops.h"

namespace heed {
namespace {

// Read as each thread starts, so HEED_DETECT_ANOMALY=1 covers every thread.
bool from_environment() {
  const char* v = std::getenv("HEED_DETECT_ANOMALY");
  return v != nullptr && std::strcmp(v, "") != 0 && std::strcmp(v, "0") != 0;
}

thread_local bool t_anomaly = from_environment();

// The first non-finite element of t: its row-major index, or -1.
int64_t first_non_finite(const Tensor& t) {
  Tensor c = contiguous(t);
  const float* p = c.data();
  for (int64_t i = 0; i < c.numel(); ++i)
    if (!std::isfinite(p[i])) return i;
  return -1;
}

// "NaN (first at element 3 of (2, 4))"
std::string what_went_wrong(const Tensor& t, int64_t at) {
  float v = contiguous(t).data()[at];
  return detail::concat(std::isnan(v) ? "NaN"
                        : v > 0       ? "Inf"
                                      : "-Inf",
                        " (first at element ", at, " of ", t.shape(), ")");
}

std::string describe_inputs(const std::vector<Variable>& inputs) {
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i > 0) out += ", ";
    out += detail::describe(inputs[i]);
  }
  return out.empty() ? "no inputs" : out;
}

}  // namespace

AnomalyGuard::AnomalyGuard(bool enabled) : previous_(t_anomaly) { t_anomaly = enabled; }
AnomalyGuard::~AnomalyGuard() { t_anomaly = previous_; }
bool anomaly_enabled() { return t_anomaly; }

namespace detail {

std::string describe(const Variable& v) {
  const VariableImpl& impl = *v.impl();
  if (!impl.name.empty()) return concat("'", impl.name, "' ", impl.value.shape());
  if (impl.node)
    return concat("the ", impl.value.shape(), " output of ", impl.node->op, " #", impl.node->sequence);
  return concat("a ", impl.value.shape(), impl.requires_grad ? " leaf" : " constant");
}

void check_forward(const char* op, uint64_t sequence, const Tensor& value,
                   const std::vector<Variable>& inputs) {
  int64_t at = first_non_finite(value);
  if (at < 0) return;
  std::string upstream;
  for (size_t i = 0; i < inputs.size() && upstream.empty(); ++i)
    if (first_non_finite(inputs[i].value()) >= 0)
      upstream = concat("; input ", i, " already held non-finite values, so look upstream of it");
  throw Error(concat("anomaly: ", op, " #", sequence, " produced ", what_went_wrong(value, at), " from ",
                     describe_inputs(inputs), upstream));
}

void check_backward(const Node& node, const Tensor& grad_output, const Grads& grads) {
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    int64_t at = first_non_finite(grads[i]);
    if (at < 0) continue;
    bool received_finite = first_non_finite(grad_output) < 0;
    throw Error(concat("anomaly: the backward of ", node.op, " #", node.sequence, " produced ",
                       what_went_wrong(grads[i], at), " in the gradient for input ", i, " (",
                       describe(node.inputs[i]), ") from ", describe_inputs(node.inputs),
                       received_finite ? "; the gradient it received was finite"
                                       : "; the gradient it received was already non-finite"));
  }
}

}  // namespace detail
}  // namespace heed
