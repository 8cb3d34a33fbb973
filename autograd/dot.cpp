// to_dot: the graph as Graphviz text, found by the same kind of iterative walk
// backward() does, from the output back to the leaves.
#include "autograd/dot.h"

#include <sstream>
#include <unordered_map>
#include <vector>

#include "autograd/graph.h"

namespace heed {

std::string to_dot(const Variable& v) {
  HEED_CHECK(v.defined(), "to_dot: the Variable is undefined (default-constructed)");
  std::ostringstream out;
  out << "digraph heed {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  // One DOT node per Variable: a leaf, or the op (its Node) that made it.
  std::unordered_map<const detail::VariableImpl*, int> ids;
  std::vector<const detail::VariableImpl*> stack{v.impl().get()};
  ids[v.impl().get()] = 0;
  while (!stack.empty()) {
    const detail::VariableImpl* impl = stack.back();
    stack.pop_back();
    int id = ids[impl];
    std::string name;  // DOT needs quotes escaped
    for (char c : impl->name) name += c == '"' ? std::string("\\\"") : std::string(1, c);
    if (!name.empty()) name += "\\n";
    if (impl->node) {
      const detail::Node* node = &*impl->node;
      out << "  n" << id << " [shape=box, label=\"" << name << node->op << " #" << node->sequence << "\\n"
          << node->shape << (node->freed ? "\\n(graph freed)" : "") << "\"];\n";
      for (const Variable& input : node->inputs) {
        const detail::VariableImpl* in = input.impl().get();
        auto [it, fresh] = ids.try_emplace(in, int(ids.size()));
        if (fresh) stack.push_back(in);
        out << "  n" << it->second << " -> n" << id << ";\n";
      }
    } else {
      if (name.empty()) name = impl->requires_grad ? "leaf\\n" : "constant\\n";
      out << "  n" << id << " [shape=ellipse, label=\"" << name << impl->value.shape() << "\""
          << (impl->requires_grad ? "" : ", color=grey, fontcolor=grey") << "];\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace heed
