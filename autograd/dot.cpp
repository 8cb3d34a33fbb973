// to_dot: the graph as Graphviz text, found by the same kind of iterative walk
// backward() does, from the output back to the leaves.
#include "autograd/dot.h"

#include <sstream>
#include <unordered_map>
#include <vector>

#include "autograd/graph.h"

namespace heed {

namespace {
// DOT needs quotes escaped; a name is followed by a line break.
std::string label_of(const std::string& name) {
  std::string out;
  for (char c : name) out += c == '"' ? std::string("\\\"") : std::string(1, c);
  return out.empty() ? out : out + "\\n";
}
}  // namespace

std::string to_dot(const Variable& v) {
  HEED_CHECK(v.defined(), "to_dot: the Variable is undefined (default-constructed)");
  std::ostringstream out;
  out << "digraph heed {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n";
  // One DOT node per op (its Node) and per leaf; a constant input has no
  // identity in the graph (no edge keeps it), so each use is drawn apart.
  std::unordered_map<const void*, int> ids;
  int next_id = 0;
  auto leaf = [&](const detail::VariableImpl& impl) {
    auto [it, fresh] = ids.try_emplace(&impl, next_id);
    if (fresh) {
      ++next_id;
      std::string name = label_of(impl.name);
      if (name.empty()) name = impl.requires_grad ? "leaf\\n" : "constant\\n";
      out << "  n" << it->second << " [shape=ellipse, label=\"" << name << impl.value.shape() << "\""
          << (impl.requires_grad ? "" : ", color=grey, fontcolor=grey") << "];\n";
    }
    return it->second;
  };
  const detail::VariableImpl& root = *v.impl();
  if (!root.node) {
    leaf(root);
  } else {
    std::vector<const detail::Node*> stack{root.node.get()};
    ids[root.node.get()] = next_id++;
    while (!stack.empty()) {
      const detail::Node* node = stack.back();
      stack.pop_back();
      int id = ids[node];
      out << "  n" << id << " [shape=box, label=\"" << label_of(node->name) << node->op << " #"
          << node->sequence << "\\n"
          << node->shape << (node->freed ? "\\n(graph freed)" : "") << "\"];\n";
      for (const detail::Edge& edge : node->inputs) {
        int from;
        if (edge.node) {
          auto [it, fresh] = ids.try_emplace(edge.node.get(), next_id);
          if (fresh) {
            ++next_id;
            stack.push_back(edge.node.get());
          }
          from = it->second;
        } else if (edge.leaf) {
          from = leaf(*edge.leaf);
        } else {
          from = next_id++;
          out << "  n" << from << " [shape=ellipse, label=\"constant\\n"
              << edge.shape << "\", color=grey, fontcolor=grey];\n";
        }
        out << "  n" << from << " -> n" << id << ";\n";
      }
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace heed
