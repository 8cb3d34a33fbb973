// Variable, record() and the no-grad flag: how the graph is built and torn down.
// backward() walks it in autograd/backward.cpp.
#include "autograd/variable.h"

#include <atomic>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/graph.h"

namespace heed {
namespace {

thread_local bool t_grad_enabled = true;
thread_local uint64_t t_sequence = 0;
std::atomic<int64_t> g_live_nodes{0};

detail::VariableImpl& checked(const std::shared_ptr<detail::VariableImpl>& impl, const char* what) {
  HEED_CHECK(impl != nullptr, "Variable::", what, ": the Variable is undefined (default-constructed)");
  return *impl;
}

}  // namespace

// ------------------------------------------------------------- the graph's nodes
namespace detail {

int64_t live_nodes() { return g_live_nodes.load(std::memory_order_relaxed); }
uint64_t next_sequence() { return ++t_sequence; }
void restart_sequence() { t_sequence = 0; }

Node::Node(const char* op, const Shape& shape, std::vector<Variable> inputs, BackwardFn backward,
           uint64_t sequence)
    : op(op), shape(shape), inputs(std::move(inputs)), backward(std::move(backward)), sequence(sequence) {
  g_live_nodes.fetch_add(1, std::memory_order_relaxed);
}

// Destroying a chain naively recurses: output -> node -> input -> its node -> ...
// Instead, inputs that only this chain still holds hand their own inputs over to
// a local stack before they die, so each node is destroyed with no inputs left.
Node::~Node() {
  g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
  std::vector<Variable> pending = std::move(inputs);
  while (!pending.empty()) {
    Variable v = std::move(pending.back());
    pending.pop_back();
    const auto& impl = v.impl();
    if (impl && impl.use_count() == 1 && impl->node) {
      for (Variable& input : impl->node->inputs) pending.push_back(std::move(input));
      impl->node->inputs.clear();
    }
  }  // v, and the node it alone held, die here with nothing behind them
}

void Node::release() {
  backward = nullptr;
  inputs.clear();
  grad = Tensor();
  freed = true;
}

}  // namespace detail

// ------------------------------------------------------------- recording
Variable record(const char* op, Tensor value, std::vector<Variable> inputs, BackwardFn backward) {
  uint64_t sequence = detail::next_sequence();
  if (anomaly_enabled()) detail::check_forward(op, sequence, value, inputs);
  bool needs_grad = false;
  if (t_grad_enabled)
    for (const Variable& input : inputs) needs_grad = needs_grad || input.requires_grad();
  Variable out(std::move(value));
  if (needs_grad) {
    detail::VariableImpl& impl = *out.impl();
    impl.requires_grad = true;
    impl.node.emplace(op, impl.value.shape(), std::move(inputs), std::move(backward), sequence);
  }
  return out;
}

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
bool grad_enabled() { return t_grad_enabled; }

// ------------------------------------------------------------- Variable
Variable::Variable(Tensor value, bool requires_grad) : impl_(std::make_shared<detail::VariableImpl>()) {
  HEED_CHECK(value.defined(), "Variable: cannot hold an undefined tensor");
  impl_->value = std::move(value);
  impl_->requires_grad = requires_grad;
}

const Tensor& Variable::value() const { return checked(impl_, "value").value; }
const Tensor& Variable::grad() const { return checked(impl_, "grad").grad; }
bool Variable::requires_grad() const { return impl_ && impl_->requires_grad; }
bool Variable::is_leaf() const { return !checked(impl_, "is_leaf").node; }
std::string Variable::op() const {
  const auto& node = checked(impl_, "op").node;
  return node ? node->op : "leaf";
}
const std::string& Variable::name() const { return checked(impl_, "name").name; }

const Variable& Variable::set_name(std::string name) const {
  checked(impl_, "set_name").name = std::move(name);
  return *this;
}

void Variable::set_requires_grad(bool requires_grad) const {
  detail::VariableImpl& impl = checked(impl_, "set_requires_grad");
  HEED_CHECK(!impl.node, "set_requires_grad: only a leaf's flag can change, and ", impl.node->op,
             " made this Variable; use detach() for a leaf with the same value");
  impl.requires_grad = requires_grad;
}

Variable Variable::detach() const { return Variable(value(), false); }

void Variable::zero_grad() const { checked(impl_, "zero_grad").grad = Tensor(); }

void Variable::set_value(const Tensor& value) const {
  detail::VariableImpl& impl = checked(impl_, "set_value");
  HEED_CHECK(value.defined() && value.shape() == impl.value.shape(), "set_value: the new value has shape ",
             value.defined() ? to_string(value.shape()) : "undefined", " but the Variable has shape ",
             impl.value.shape());
  impl.value = value;
}

void Variable::set_grad(const Tensor& grad) const {
  detail::VariableImpl& impl = checked(impl_, "set_grad");
  HEED_CHECK(!grad.defined() || grad.shape() == impl.value.shape(), "set_grad: the gradient has shape ",
             grad.shape(), " but the Variable has shape ", impl.value.shape());
  impl.grad = grad;
}

}  // namespace heed
