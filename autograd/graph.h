// The graph behind Variables (internal to autograd/: ops, backward, to_dot and
// anomaly mode read it; users never do).
//
//   Variable ──> VariableImpl { value, grad, requires_grad, name, node }
//                                                                  │
//   Node { op, shape, inputs: Edges, backward closure, pending grad }
//              └──> each Edge: the Node that made that input, or the leaf
//                   that takes its gradient, or nothing (a constant)
//
// A Node keeps what its backward must reach, never its inputs' values: an
// intermediate Variable the user drops is freed at once, and the only tensors a
// graph holds are those its closures saved (each op saves only what its
// backward reads). Ownership runs one way, from an output to the nodes that
// made its inputs, so the graph holds no cycles: it lives exactly as long as
// the Variables that reach it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace heed::detail {

struct Node;

// Where one input's gradient goes. A constant input (requires_grad false when
// the op ran) gets an Edge with neither target: no gradient, no reference.
struct Edge {
  std::shared_ptr<Node> node;          // a non-leaf input: the op that made it
  std::shared_ptr<VariableImpl> leaf;  // a leaf that requires a gradient
  int64_t piece = -1;                  // that input is piece `piece` of node's output (unbind)
  Shape shape;                         // the input's shape

  bool leads_somewhere() const { return node || leaf; }
};

struct Node {
  Node(const char* op, const Shape& shape, std::vector<Edge> inputs, BackwardFn backward, uint64_t sequence);
  // Tears the chain of nodes behind it down iteratively: a 100,000-op chain
  // destroyed recursively would overflow the stack.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const char* op;
  Shape shape;  // of the output (for unbind: of the whole its pieces came from)
  std::vector<Edge> inputs;
  BackwardFn backward;     // d loss / d output -> d loss / d inputs
  uint64_t sequence;       // k: the k-th op recorded on this thread since the last backward()
  int64_t piece_dim = -1;  // unbind: the outputs are the pieces of `shape` along this dim
  std::string name;        // the output Variable's name, for messages and to_dot
  Tensor grad;             // d loss / d output, summed over paths while backward runs
  uint64_t visited = 0;    // the backward pass that last sorted this node
  bool freed = false;      // backward released inputs and closure (no retain_graph)

  // Drops what backward needs (edges, closure and the tensors it saved).
  void release();
};

struct VariableImpl {
  Tensor value;
  Tensor grad;  // leaves only
  bool requires_grad = false;
  std::shared_ptr<Node> node;  // the op that made it; empty for a leaf
  int64_t piece = -1;          // which of node's pieces this is (unbind), else -1
  std::string name;

  Node* producer() const { return node.get(); }
};

// Ops are numbered per thread, restarting at each backward(): "log #3".
uint64_t next_sequence();

// True while backward() runs the closures of a graph it frees after them (no
// retain_graph): each closure runs for the last time, so it may overwrite what
// only it holds (Saved::take).
bool frees_graph();

// Anomaly mode hooks (autograd/anomaly.cpp); called only when it is on.
void check_forward(const char* op, uint64_t sequence, const Tensor& value,
                   const std::vector<Variable>& inputs);
void check_backward(const Node& node, const Tensor& grad_output, const Grads& grads);
// "'x' (3, 4)" for a named Variable, else "a (3, 4) leaf" or "the (3, 4) output of mul #4".
std::string describe(const Variable& v);
// The same for what an edge leads to ("a (3, 4) constant" when nothing).
std::string describe(const Edge& edge);

// Thrown by Saved::get when its tensor was written in place; backward() adds
// the op's name and number to the message.
struct SavedTensorModified : Error {
  using Error::Error;
};

}  // namespace heed::detail
