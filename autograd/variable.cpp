// Variable, record() and the no-grad flag: how the graph is built and torn down.
// backward() walks it in autograd/backward.cpp.
#include "autograd/variable.h"

#include <atomic>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "tensor/ops.h"

namespace heed {
namespace {

thread_local bool t_grad_enabled = true;
thread_local uint64_t t_sequence = 0;
thread_local std::unordered_map<const Storage*, int64_t>* t_saved_reads = nullptr;
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
void trace_saved_reads(std::unordered_map<const Storage*, int64_t>* reads) { t_saved_reads = reads; }

Node::Node(const char* op, const Shape& shape, std::vector<Edge> inputs, BackwardFn backward,
           uint64_t sequence)
    : op(op), shape(shape), inputs(std::move(inputs)), backward(std::move(backward)), sequence(sequence) {
  g_live_nodes.fetch_add(1, std::memory_order_relaxed);
}

// Destroying a chain naively recurses: output -> node -> its input's node -> ...
// Instead, a node that only this chain still holds hands its own input nodes
// over to a local stack before it dies, so each dies with no inputs left.
Node::~Node() {
  g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
  std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : inputs)
    if (e.node) pending.push_back(std::move(e.node));
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node.use_count() == 1)
      for (Edge& e : node->inputs)
        if (e.node) pending.push_back(std::move(e.node));
  }  // node dies here with nothing behind it
}

void Node::release() {
  backward = nullptr;
  inputs.clear();
  grad = Tensor();
  freed = true;
}

}  // namespace detail

// ------------------------------------------------------------- recording
namespace {

// Edges to what each input's gradient feeds, or none when no input needs one
// (then nothing is recorded).
std::vector<detail::Edge> edges_to(const std::vector<Variable>& inputs) {
  if (!would_record(inputs)) return {};
  std::vector<detail::Edge> edges(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& impl = inputs[i].impl();
    edges[i].shape = impl->value.shape();
    if (!impl->requires_grad) continue;
    if (impl->node) {
      edges[i].node = impl->node;
      edges[i].piece = impl->piece;
    } else {
      edges[i].leaf = impl;
    }
  }
  return edges;
}

}  // namespace

bool would_record(const std::vector<Variable>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Variable& input : inputs)
    if (input.requires_grad()) return true;
  return false;
}

Variable record(const char* op, Tensor value, std::vector<Variable> inputs, BackwardFn backward) {
  uint64_t sequence = detail::next_sequence();
  if (anomaly_enabled()) detail::check_forward(op, sequence, value, inputs);
  std::vector<detail::Edge> edges = edges_to(inputs);
  Variable out(std::move(value));
  if (!edges.empty()) {
    detail::VariableImpl& impl = *out.impl();
    impl.requires_grad = true;
    impl.node = std::make_shared<detail::Node>(op, impl.value.shape(), std::move(edges), std::move(backward),
                                               sequence);
  }
  return out;
}

std::vector<Variable> record_pieces(const char* op, std::vector<Tensor> pieces, const Shape& shape,
                                    int64_t dim, const Variable& input, BackwardFn backward) {
  uint64_t sequence = detail::next_sequence();
  std::vector<detail::Edge> edges = edges_to({input});
  std::shared_ptr<detail::Node> node;
  if (!edges.empty()) {
    node = std::make_shared<detail::Node>(op, shape, std::move(edges), std::move(backward), sequence);
    node->piece_dim = dim;
  }
  std::vector<Variable> out;
  out.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (anomaly_enabled()) detail::check_forward(op, sequence, pieces[i], {input});
    out.emplace_back(std::move(pieces[i]));
    if (!node) continue;
    detail::VariableImpl& impl = *out.back().impl();
    impl.requires_grad = true;
    impl.node = node;
    impl.piece = int64_t(i);
  }
  return out;
}

// ------------------------------------------------------------- saved tensors, regions
Saved::Saved(Tensor t, const char* what)
    : tensor_(std::move(t)), version_(tensor_.defined() ? tensor_.storage()->version() : 0), what_(what) {}

const Tensor& Saved::get() const {
  if (tensor_.defined() && tensor_.storage()->version() != version_)
    throw detail::SavedTensorModified(
        detail::concat(what_, " ", tensor_.shape(),
                       " for its gradient, but an in-place op (add_, mul_, copy_, fill_) wrote it "
                       "afterwards (version ",
                       tensor_.storage()->version(), ", saved at version ", version_,
                       "): write into a clone() instead, or do the in-place op before the tensor is used"));
  if (t_saved_reads && tensor_.defined())
    (*t_saved_reads)[tensor_.storage().get()] = tensor_.storage()->count() * int64_t(sizeof(float));
  return tensor_;
}

Tensor Saved::take() const {
  const Tensor& t = get();
  if (!t.defined() || !detail::frees_graph() || t.storage().use_count() != 1 || !t.is_contiguous()) return {};
  return t;
}

Tensor Region::of(const Tensor& full) const {
  return select ? heed::select(full, dim, start) : slice(full, dim, start, end, step);
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
  detail::VariableImpl& impl = checked(impl_, "set_name");
  if (impl.node && impl.piece < 0) impl.node->name = name;
  impl.name = std::move(name);
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
