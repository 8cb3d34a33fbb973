// backward(): reverse-mode differentiation as one topological walk.
//
//  1. Sort the nodes behind the output so that every node comes after all the
//     nodes that made its inputs (an iterative depth-first search: a chain of
//     100,000 ops needs no recursion).
//  2. Visit them in reverse: a node's gradient is complete once every node that
//     used its output has run, so its closure runs exactly once and hands each
//     input its share, added (+=) to what other paths gave it.
//  3. Free the graph (inputs, closures and the tensors they saved) unless
//     retain_graph: a later backward through it is an error, not a silent zero.
#include <utility>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "tensor/ops.h"

namespace heed {
namespace {

// Marks which pass last sorted a node, so no per-pass set is allocated.
thread_local uint64_t t_pass = 0;

// acc += g. A tensor we alone own is added into in place; one the caller may
// still hold (the closure's grad_output, a saved tensor, a broadcast view) is
// never written, so a closure may return its grad_output as is.
void accumulate(Tensor& acc, Tensor g) {
  if (!acc.defined())
    acc = std::move(g);
  else if (acc.storage().use_count() == 1 && acc.is_contiguous())
    add_(acc, g);
  else
    acc = add(acc, g);
}

// A leaf's grad outlives backward and optimizers update it in place, so it must
// be its own contiguous tensor.
void accumulate_leaf(Tensor& acc, Tensor g) {
  if (!acc.defined() && !(g.storage().use_count() == 1 && g.is_contiguous())) g = clone(g);
  accumulate(acc, std::move(g));
}

std::string freed_message(const detail::Node& node) {
  return detail::concat("backward: the graph behind ", node.op, " #", node.sequence,
                        " was freed by an earlier backward(); pass retain_graph = true to the first "
                        "backward() to go through the graph again");
}

// Every node behind `root`, each after the nodes that made its inputs.
std::vector<detail::Node*> topological_order(detail::Node* root) {
  uint64_t pass = ++t_pass;
  std::vector<detail::Node*> order;
  std::vector<std::pair<detail::Node*, size_t>> stack;  // a node and its next input to explore
  stack.reserve(64);
  root->visited = pass;
  stack.push_back({root, 0});
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next == node->inputs.size()) {
      order.push_back(node);
      stack.pop_back();
      continue;
    }
    detail::Node* child = node->inputs[next++].impl()->producer();
    if (!child || child->visited == pass) continue;
    HEED_CHECK(!child->freed, freed_message(*child));
    child->visited = pass;
    stack.push_back({child, 0});
  }
  return order;
}

}  // namespace

void Variable::backward(const Tensor& grad, bool retain_graph) const {
  HEED_CHECK(defined(), "backward: the Variable is undefined (default-constructed)");
  detail::restart_sequence();
  detail::VariableImpl& out = *impl();
  HEED_CHECK(out.requires_grad,
             "backward: this Variable does not require a gradient: it is a constant, or "
             "no input of the ops that made it requires one (or they ran under NoGradGuard)");
  Tensor seed;
  if (grad.defined()) {
    HEED_CHECK(grad.shape() == shape(), "backward: the gradient has shape ", grad.shape(),
               " but the output has shape ", shape());
    seed = grad;
  } else {
    HEED_CHECK(numel() == 1, "backward: the output has shape ", shape(),
               "; only a one-element output starts backward without a gradient: pass d loss / d output "
               "of that shape, or reduce the output first (e.g. sum)");
    seed = ones(shape());
  }
  if (!out.node) {  // a leaf: d self / d self = 1
    accumulate_leaf(out.grad, seed);
    return;
  }
  detail::Node* root = out.producer();
  HEED_CHECK(!root->freed, freed_message(*root));

  std::vector<detail::Node*> order = topological_order(root);
  bool anomaly = anomaly_enabled();
  root->grad = seed;
  try {
    for (size_t k = order.size(); k-- > 0;) {
      detail::Node& node = *order[k];
      Tensor grad_output = std::move(node.grad);
      if (!grad_output.defined()) continue;  // every path here returned "no gradient"
      Grads grads = node.backward(grad_output);
      if (!retain_graph) node.backward = nullptr;  // its saved tensors go now, not at the end
      HEED_CHECK(grads.size() == node.inputs.size(), "backward: the backward of ", node.op, " #",
                 node.sequence, " returned ", grads.size(), " gradients for its ", node.inputs.size(),
                 " inputs");
      if (anomaly) detail::check_backward(node, grad_output, grads);
      for (size_t i = 0; i < grads.size(); ++i) {
        detail::VariableImpl& input = *node.inputs[i].impl();
        if (!grads[i].defined() || !input.requires_grad) continue;
        HEED_CHECK(grads[i].shape() == input.value.shape(), "backward: ", node.op, " #", node.sequence,
                   " gave input ", i, " a gradient of shape ", grads[i].shape(), " but that input has shape ",
                   input.value.shape());
        if (input.node)
          accumulate(input.node->grad, std::move(grads[i]));
        else
          accumulate_leaf(input.grad, std::move(grads[i]));
      }
    }
  } catch (...) {
    // Leave no half-summed node gradient behind (leaves keep what they already got),
    // and no node whose closure is gone but which looks usable.
    for (detail::Node* node : order) {
      if (retain_graph)
        node->grad = Tensor();
      else
        node->release();
    }
    throw;
  }
  // In sorted order: releasing a node can only destroy nodes sorted before it.
  if (!retain_graph)
    for (detail::Node* node : order) node->release();
}

}  // namespace heed
