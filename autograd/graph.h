// The graph behind Variables (internal to autograd/: ops, backward, to_dot and
// anomaly mode read it; users never do).
//
//   Variable ──> VariableImpl { value, grad, requires_grad, name, node: Node }
//   Node { op, shape, inputs (Variables), backward closure, pending grad }
//              └──> the input Variables ──> their VariableImpls ──> ...
//
// Ownership runs one way only, from an output to the inputs that made it, so the
// graph holds no cycles: it lives exactly as long as the Variables that reach it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace heed::detail {

struct Node {
  Node(const char* op, const Shape& shape, std::vector<Variable> inputs, BackwardFn backward,
       uint64_t sequence);
  // Tears the chain of nodes behind it down iteratively: a 100,000-op chain
  // destroyed recursively would overflow the stack.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const char* op;
  Shape shape;  // of the output
  std::vector<Variable> inputs;
  BackwardFn backward;   // d loss / d output -> d loss / d inputs
  uint64_t sequence;     // k: the k-th op recorded on this thread since the last backward()
  Tensor grad;           // d loss / d output, summed over paths while backward runs
  uint64_t visited = 0;  // the backward pass that last sorted this node
  bool freed = false;    // backward released inputs and closure (no retain_graph)

  // Drops what backward needs (inputs, closure and the tensors it saved).
  void release();
};

// A Node belongs to the one Variable its op made, so it lives inside it: one
// allocation per recorded op instead of two.
struct VariableImpl {
  Tensor value;
  Tensor grad;  // leaves only
  bool requires_grad = false;
  std::optional<Node> node;  // the op that made it; empty for a leaf
  std::string name;

  Node* producer() { return node ? &*node : nullptr; }
};

// Ops are numbered per thread, restarting at each backward(): "log #3".
uint64_t next_sequence();

// Anomaly mode hooks (autograd/anomaly.cpp); called only when it is on.
void check_forward(const char* op, uint64_t sequence, const Tensor& value,
                   const std::vector<Variable>& inputs);
void check_backward(const Node& node, const Tensor& grad_output, const Grads& grads);
// "'x' (3, 4)" for a named Variable, else "a (3, 4) leaf" or "the (3, 4) output of mul #4".
std::string describe(const Variable& v);

}  // namespace heed::detail
