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

// Each distinct input once: x - x came from one Variable, not two.
std::string describe_inputs(const std::vector<Variable>& inputs) {
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || inputs[j].impl() == inputs[i].impl();
    if (seen) continue;
    if (!out.empty()) out += " and ";
    out += detail::describe(inputs[i]);
  }
  return out.empty() ? "no inputs" : out;
}

}  // namespace

AnomalyGuard::AnomalyGuard(bool enabled) : previous_(t_anomaly) { t_anomaly = enabled; }
AnomalyGuard::~AnomalyGuard() { t_anomaly = previous_; }
bool anomaly_enabled() { return t_anomaly; }

namespace detail {

namespace {
std::string describe(const VariableImpl& impl) {
  if (!impl.name.empty()) return concat("'", impl.name, "' ", impl.value.shape());
  if (impl.node && impl.piece >= 0)
    return concat("piece ", impl.piece, " ", impl.value.shape(), " of ", impl.node->op, " #",
                  impl.node->sequence);
  if (impl.node)
    return concat("the ", impl.value.shape(), " output of ", impl.node->op, " #", impl.node->sequence);
  return concat("a ", impl.value.shape(), impl.requires_grad ? " leaf" : " constant");
}
}  // namespace

std::string describe(const Variable& v) { return describe(*v.impl()); }

std::string describe(const Edge& edge) {
  if (edge.leaf) return describe(*edge.leaf);
  if (!edge.node) return concat("a ", edge.shape, " constant");
  if (edge.piece >= 0)
    return concat("piece ", edge.piece, " ", edge.shape, " of ", edge.node->op, " #", edge.node->sequence);
  if (!edge.node->name.empty()) return concat("'", edge.node->name, "' ", edge.shape);
  return concat("the ", edge.shape, " output of ", edge.node->op, " #", edge.node->sequence);
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
    int64_t at = first_non_finite(grads[i].value);
    if (at < 0) continue;
    bool received_finite = first_non_finite(grad_output) < 0;
    throw Error(concat("anomaly: the backward of ", node.op, " #", node.sequence, " produced ",
                       what_went_wrong(grads[i].value, at), " in the gradient for its input ", i, ", ",
                       describe(node.inputs[i]),
                       received_finite ? "; the gradient it received was finite"
                                       : "; the gradient it received was already non-finite"));
  }
}

}  // namespace detail
}  // namespace heed
