// Variable: a Tensor that remembers how it was made, so gradients can flow back.
//
// A Variable holds a value Tensor, its gradient (allocated when backward first
// reaches it), and, for a non-leaf, the Node that made it: the op's name, edges
// to where its inputs' gradients go, and a closure that turns the output's
// gradient into the inputs' gradients. Copying a Variable shares it, like a
// shared_ptr.
//
//   Variable w(randn({3, 2}, gen), /*requires_grad=*/true);
//   Variable loss = sum(matmul(x, w));
//   loss.backward();               // w.grad() is now d loss / d w: (3, 2)
//
// A Tensor converts implicitly into a constant Variable (requires_grad false),
// so constants mix freely with parameters: mul(x, mask).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/tensor.h"

namespace heed {

namespace detail {
struct VariableImpl;
struct Node;
}  // namespace detail

// A region of a tensor that a view kept: index `start` of `dim` (select, the
// dim removed), or start, start + step, ... < end of `dim` (slice, narrow).
struct Region {
  int64_t dim = 0, start = 0, end = 0, step = 1;
  bool select = false;
  Tensor of(const Tensor& full) const;  // that region of `full`, a view
};

// One input's gradient: the whole of it, or, with a region, the gradient of
// that region only (zero elsewhere). A view that keeps part of its input
// returns the latter, and backward adds it into that region of the input's
// gradient in place: walking a (B, T, D) sequence with T selects costs O(T B D)
// in backward, not the O(T^2 B D) of T full-size zero tensors.
struct Grad {
  Grad() = default;
  Grad(Tensor value) : value(std::move(value)) {}  // implicit: Grads{grad * y}
  Grad(Tensor value, Region region) : value(std::move(value)), region(region), has_region(true) {}
  bool defined() const { return value.defined(); }

  Tensor value;
  Region region;
  bool has_region = false;
};

// The gradients a backward closure returns, one per input of its op, in input
// order; an undefined one means "no gradient for this input".
using Grads = std::vector<Grad>;
// Receives d loss / d output and returns d loss / d input for each input.
using BackwardFn = std::function<Grads(const Tensor& grad_output)>;

// A tensor a backward closure keeps: [y = Saved(y)]. It remembers the version of
// its storage (tensor/tensor.h), and reading it after an in-place op wrote that
// storage throws, naming the op, instead of computing a wrong gradient.
class Saved {
 public:
  Saved() = default;
  explicit Saved(Tensor t, const char* what = "a tensor");
  const Tensor& get() const;
  operator const Tensor&() const { return get(); }  // grad * y reads like a Tensor
  // The saved tensor for the closure to overwrite (its gradient written over
  // its log-softmax, say), when this closure is its last reader: backward()
  // frees the graph after it (no retain_graph), and nothing else holds the
  // storage (no Variable, no view, no other node). Else an undefined Tensor:
  // the closure then writes into a new one. Checked like get(); the closure
  // must not read the Saved again after writing.
  Tensor take() const;

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
  const char* what_ = "";  // "its input 1", "its output": for the message
};

class Variable {
 public:
  // An undefined Variable.
  Variable() = default;
  Variable(Tensor value, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  const Tensor& value() const;
  // d loss / d this, or an undefined Tensor before any backward reached it.
  const Tensor& grad() const;
  bool requires_grad() const;
  void set_requires_grad(bool requires_grad) const;
  // A leaf was made by the user, not by an op; only leaves keep their grad.
  bool is_leaf() const;
  // The op that made this Variable ("leaf" for a leaf).
  std::string op() const;
  const std::string& name() const;
  // Names a Variable for graphs (to_dot) and error messages; returns *this.
  const Variable& set_name(std::string name) const;

  const Shape& shape() const { return value().shape(); }
  int64_t dim() const { return value().dim(); }
  int64_t size(int64_t d) const { return value().size(d); }
  int64_t numel() const { return value().numel(); }
  float item() const { return value().item(); }

  // Back-propagates from this Variable. A scalar output needs no `grad`
  // (it is taken as 1); any other output must be given d loss / d this.
  // Gradients accumulate (+=) into leaves that require them. The graph is freed
  // afterwards unless retain_graph is set; a second backward through a freed
  // graph is an error.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  // The same value, cut from the graph (requires_grad false).
  Variable detach() const;
  // Drops the accumulated gradient.
  void zero_grad() const;
  // Makes this Variable hold `value` (shared, not copied): optimizers, checkpoint
  // loading. Shapes must match. Graphs recorded earlier keep the old value.
  void set_value(const Tensor& value) const;
  // Overwrites the gradient (optimizers, gradient clipping); shapes must match.
  void set_grad(const Tensor& grad) const;

  // The shared state; autograd's own files reach the graph through it.
  const std::shared_ptr<detail::VariableImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<detail::VariableImpl> impl_;
};

// Records an op: makes the Variable holding `value` and, when recording is on
// and some input requires a gradient, the Node whose `backward` computes the
// inputs' gradients from the output's. Every differentiable op is written as
//
//   Variable tanh(const Variable& x) {
//     Tensor y = tanh(x.value());
//     return record("tanh", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
//       return Grads{grad * (1.0f - y * y)};  // d tanh(x)/dx = 1 - tanh(x)^2
//     });
//   }
Variable record(const char* op, Tensor value, std::vector<Variable> inputs, BackwardFn backward);
// Whether record() with these inputs would make a Node: grad mode is on and
// some input requires a gradient. Ops with a faster path for inference (one
// kernel instead of the ops autograd would record) ask this first.
bool would_record(const std::vector<Variable>& inputs);
// The same for an op whose outputs are the pieces of one tensor of `shape`
// along `dim` (unbind): one Node for all of them, whose backward receives the
// gradient of the whole, the pieces' gradients stacked in place (zeros for a
// piece that got none).
std::vector<Variable> record_pieces(const char* op, std::vector<Tensor> pieces, const Shape& shape,
                                    int64_t dim, const Variable& input, BackwardFn backward);

// The rules of recording:
//  - a Node is made only when grad mode is on and some input requires a gradient,
//    so constants and inference (NoGradGuard) build no graph at all;
//  - the closure receives d loss / d output and captures only what it reads, as
//    Saved tensors (never a Variable), so the graph has no reference cycles, keeps
//    no value its backward does not need, and is freed when its last Variable
//    goes away, or by backward() unless retain_graph is set;
//  - in anomaly mode (autograd/anomaly.h) a non-finite `value` throws, naming the op.

// RAII: while one lives on this thread, ops record nothing (inference, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
bool grad_enabled();

namespace detail {
// How many graph Nodes are alive in the program: tests use it to prove that a
// graph is freed (no reference cycles, no leaks).
int64_t live_nodes();
// Ops are numbered per thread ("log #3" in anomaly messages and to_dot), from 1
// again at each backward(); tests restart the count here.
void restart_sequence();
// While `reads` is set on this thread, every Saved tensor a backward reads is
// noted in it, storage -> bytes: make bench compares what a graph holds with
// what its backward reads. nullptr stops it.
void trace_saved_reads(std::unordered_map<const Storage*, int64_t>* reads);
}  // namespace detail

}  // namespace heed
