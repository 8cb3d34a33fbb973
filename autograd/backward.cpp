// backward(): reverse-mode differentiation as one topological walk.
//
//  1. Sort the nodes behind the output so that every node comes after all the
//     nodes that made its inputs (an iterative depth-first search: a chain of
//     100,000 ops needs no recursion).
//  2. Visit them in reverse: a node's gradient is complete once every node that
//     used its output has run, so its closure runs exactly once and hands each
//     input its share, added (+=) to what other paths gave it.
//  3. Free the graph (edges, closures and the tensors they saved) unless
//     retain_graph: a later backward through it is an error, not a silent zero.
//
// A gradient that covers only a region of its input (select, slice, narrow and
// unbind's pieces) is added into that region of one full-size gradient, so a
// sequence walked step by step costs O(T) in backward.
#include <utility>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "tensor/ops.h"

namespace heed {
namespace {

// Marks which pass last sorted a node, so no per-pass set is allocated.
thread_local uint64_t t_pass = 0;
// Whether the closures running now are the last to (see detail::frees_graph).
thread_local bool t_frees_graph = false;

// Sets t_frees_graph for one backward() and puts the outer value back after it
// (a closure may itself call backward()).
class FreesGraph {
 public:
  explicit FreesGraph(bool frees) : previous_(t_frees_graph) { t_frees_graph = frees; }
  ~FreesGraph() { t_frees_graph = previous_; }
  FreesGraph(const FreesGraph&) = delete;
  FreesGraph& operator=(const FreesGraph&) = delete;

 private:
  bool previous_;
};

// A tensor only we hold, laid out row-major: safe to add into in place.
bool owned(const Tensor& t) { return t.storage().use_count() == 1 && t.is_contiguous(); }

// acc += g for a gradient of the whole input. A tensor we alone own is added
// into in place; one the caller may still hold (the closure's grad_output, a
// saved tensor, a broadcast view) is never written, so a closure may return its
// grad_output as is. A leaf's grad outlives backward and optimizers update it
// in place, so it starts as its own contiguous tensor.
void accumulate(Tensor& acc, Tensor g, bool leaf) {
  if (!acc.defined())
    acc = leaf && !owned(g) ? clone(g) : std::move(g);
  else if (owned(acc))
    add_(acc, g);
  else
    acc = add(acc, g);
}

// acc[region] += g for the gradient of a region only: acc becomes a full-size
// tensor we own (zeros at first, once) and g is added into the region's view,
// O(size of g) instead of O(size of acc).
void accumulate_region(Tensor& acc, const Shape& full, const std::vector<Region>& path, const Tensor& g,
                       const detail::Node& node, size_t input) {
  if (!acc.defined())
    acc = zeros(full);
  else if (!owned(acc))
    acc = clone(acc);
  Tensor target = acc;
  for (const Region& r : path) target = r.of(target);
  HEED_CHECK(target.shape() == g.shape(), "backward: ", node.op, " #", node.sequence, " gave input ", input,
             " a gradient of shape ", g.shape(), " for a region of shape ", target.shape());
  add_(target, g);
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
    detail::Node* child = node->inputs[next++].node.get();
    if (!child || child->visited == pass) continue;
    HEED_CHECK(!child->freed, freed_message(*child));
    child->visited = pass;
    stack.push_back({child, 0});
  }
  return order;
}

}  // namespace

bool detail::frees_graph() { return t_frees_graph; }

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
    accumulate(out.grad, seed, /*leaf=*/true);
    return;
  }
  detail::Node* root = out.producer();
  HEED_CHECK(!root->freed, freed_message(*root));

  std::vector<detail::Node*> order = topological_order(root);
  bool anomaly = anomaly_enabled();
  if (out.piece >= 0)  // one piece of unbind's output: the rest of the whole get zeros
    accumulate_region(root->grad, root->shape, {{.dim = root->piece_dim, .start = out.piece, .select = true}},
                      seed, *root, 0);
  else
    root->grad = seed;
  FreesGraph frees(!retain_graph);
  try {
    for (size_t k = order.size(); k-- > 0;) {
      detail::Node& node = *order[k];
      Tensor grad_output = std::move(node.grad);
      if (!grad_output.defined()) continue;  // every path here returned "no gradient"
      Grads grads;
      try {
        grads = node.backward(grad_output);
      } catch (const detail::SavedTensorModified& e) {
        throw Error(detail::concat("backward: ", node.op, " #", node.sequence, " saved ", e.what()));
      }
      if (!retain_graph) node.backward = nullptr;  // its saved tensors go now, not at the end
      HEED_CHECK(grads.size() == node.inputs.size(), "backward: the backward of ", node.op, " #",
                 node.sequence, " returned ", grads.size(), " gradients for its ", node.inputs.size(),
                 " inputs");
      if (anomaly) detail::check_backward(node, grad_output, grads);
      for (size_t i = 0; i < grads.size(); ++i) {
        const detail::Edge& edge = node.inputs[i];
        Grad& g = grads[i];
        if (!g.defined() || !edge.leads_somewhere()) continue;
        Tensor& acc = edge.node ? edge.node->grad : edge.leaf->grad;
        if (edge.piece < 0 && !g.has_region) {
          HEED_CHECK(g.value.shape() == edge.shape, "backward: ", node.op, " #", node.sequence,
                     " gave input ", i, " a gradient of shape ", g.value.shape(),
                     " but that input has shape ", edge.shape);
          accumulate(acc, std::move(g.value), /*leaf=*/!edge.node);
          continue;
        }
        std::vector<Region> path;  // from acc's full shape down to g's
        if (edge.piece >= 0)
          path.push_back({.dim = edge.node->piece_dim, .start = edge.piece, .select = true});
        if (g.has_region) path.push_back(g.region);
        accumulate_region(acc, edge.node ? edge.node->shape : edge.leaf->value.shape(), path, g.value, node,
                          i);
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
