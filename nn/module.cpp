#include "nn/module.h"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "nn/io/safetensors.h"
#include "tensor/ops.h"

namespace heed::nn {

namespace {

// A name is one segment of a dotted path: non-empty and free of dots, so
// "encoder.layers.0.weight" splits back into exactly one path.
void check_name(const Module& owner, const std::string& name, const char* what) {
  HEED_CHECK(!name.empty(), owner.type_name(), ": a ", what, " needs a non-empty name");
  HEED_CHECK(name.find('.') == std::string::npos, owner.type_name(), ": the ", what, " name \"", name,
             "\" contains a dot; dots separate the levels of a dotted name");
}

// Groups 1234567 as "1,234,567".
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------- registration

// One namespace for parameters, buffers and children: "a parameter named \"w\"
// is already registered", or "\"w\" is already the name of a buffer".
void Module::check_free(const std::string& name, const char* what) const {
  auto check = [&](const auto& entries, const std::string& kind) {
    for (const auto& entry : entries) {
      if (entry.first != name) continue;
      if (kind == what)
        throw Error(detail::concat(type_name_, ": a ", kind, " named \"", name, "\" is already registered"));
      throw Error(detail::concat(type_name_, ": \"", name, "\" is already the name of a ", kind));
    }
  };
  check(parameters_, "parameter");
  check(buffers_, "buffer");
  check(children_, "child module");
}

Variable Module::register_parameter(std::string name, Tensor value) {
  check_name(*this, name, "parameter");
  HEED_CHECK(value.defined(), type_name_, ": parameter \"", name, "\" is an undefined tensor");
  check_free(name, "parameter");
  // Optimizers update parameters in place as flat arrays: keep them contiguous.
  Variable p(value.is_contiguous() ? value : clone(value), /*requires_grad=*/true);
  p.set_name(name);
  parameters_.emplace_back(std::move(name), p);
  return p;
}

Tensor Module::register_buffer(std::string name, Tensor value) {
  check_name(*this, name, "buffer");
  HEED_CHECK(value.defined(), type_name_, ": buffer \"", name, "\" is an undefined tensor");
  check_free(name, "buffer");
  // load() copies into it in place: keep it contiguous, never an expanded view.
  Tensor b = value.is_contiguous() ? value : clone(value);
  buffers_.emplace_back(std::move(name), b);
  return b;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  check_name(*this, name, "child module");
  HEED_CHECK(module != nullptr, type_name_, ": child module \"", name, "\" is null");
  HEED_CHECK(module.get() != this, type_name_, ": a module cannot be its own child (\"", name, "\")");
  check_free(name, "child module");
  children_.emplace_back(std::move(name), std::move(module));
}

// ------------------------------------------------------------- parameters

std::vector<std::pair<const Module*, std::string>> Module::modules_with_prefixes() const {
  std::vector<std::pair<const Module*, std::string>> out;
  // Iterative, with an explicit stack of (module, prefix), children pushed in
  // reverse so they pop in registration order.
  std::vector<std::pair<const Module*, std::string>> stack{{this, ""}};
  while (!stack.empty()) {
    auto [module, prefix] = std::move(stack.back());
    stack.pop_back();
    for (auto it = module->children_.rbegin(); it != module->children_.rend(); ++it)
      stack.emplace_back(it->second.get(), prefix + it->first + ".");
    out.emplace_back(module, std::move(prefix));
  }
  return out;
}

std::vector<std::pair<std::string, Variable>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Variable>> out;
  std::set<const void*> seen;
  for (const auto& [module, prefix] : modules_with_prefixes())
    for (const auto& [name, p] : module->parameters_) {
      // A parameter reached twice (a child shared by two parents) is listed
      // once, under its first name, so an optimizer never updates it twice.
      if (seen.insert(p.impl().get()).second) out.emplace_back(prefix + name, p);
    }
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::set<const void*> seen;
  for (const auto& [module, prefix] : modules_with_prefixes())
    for (const auto& entry : module->buffers_)
      if (seen.insert(&entry).second) out.emplace_back(prefix + entry.first, entry.second);
  return out;
}

std::vector<Variable> Module::parameters() const {
  std::vector<Variable> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Variable& p : parameters()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (const Variable& p : parameters()) p.zero_grad();
}

// ------------------------------------------------------------- checkpoints

// Every tensor a checkpoint holds: the parameters' values, then the buffers.
NamedTensors Module::state_dict() const {
  NamedTensors tensors;
  for (const auto& [name, p] : named_parameters()) tensors.emplace_back(name, p.value());
  for (const auto& [name, b] : named_buffers()) tensors.emplace_back(name, b);
  return tensors;
}

void Module::save(const std::string& path) const { save_safetensors(path, state_dict()); }

void Module::load(const std::string& path, const LoadOptions& options) {
  load_state_dict(load_safetensors(path).tensors, options, path);
}

void Module::load_state_dict(const NamedTensors& state, const LoadOptions& options,
                             const std::string& source) {
  std::map<std::string, Tensor> stored(state.begin(), state.end());
  NamedTensors targets = state_dict();

  // Check everything first, so a bad file changes nothing.
  std::ostringstream shapes, missing, unexpected;
  for (const auto& [name, t] : targets) {
    auto it = stored.find(name);
    if (it == stored.end()) {
      missing << (missing.tellp() > 0 ? ", " : "") << name;
    } else if (!(it->second.shape() == t.shape())) {
      shapes << "\n  " << name << ": the file has " << it->second.shape() << ", the module " << t.shape();
    }
  }
  std::set<std::string> known;
  for (const auto& entry : targets) known.insert(entry.first);
  for (const auto& entry : state)
    if (!known.count(entry.first)) unexpected << (unexpected.tellp() > 0 ? ", " : "") << entry.first;
  std::string where = "Module::load: " + source + " into " + type_name_ + ": ";
  HEED_CHECK(shapes.tellp() == 0, where, "shapes differ for", shapes.str());
  if (options.strict && (missing.tellp() > 0 || unexpected.tellp() > 0)) {
    // Both lists at once: a renamed layer shows up as one name in each.
    std::string both = missing.tellp() > 0 && unexpected.tellp() > 0 ? "; " : "";
    throw Error(detail::concat(where, missing.tellp() > 0 ? "missing from the file: " + missing.str() : "",
                               both, unexpected.tellp() > 0 ? "not in the module: " + unexpected.str() : "",
                               " (LoadOptions{.strict = false} loads the names that match)"));
  }

  NoGradGuard no_grad;
  for (const auto& [name, t] : targets) {
    auto it = stored.find(name);
    if (it != stored.end()) copy_(t, it->second);
  }
}

// ------------------------------------------------------------- printing

// Mlp                                                       82
//   fc1: Linear(in_features=2, out_features=16, bias=true)  48
//     weight (16, 2)                                        32
//     bias (16,)                                            16
//   ...
//   causal_mask (8, 8) buffer
// total parameters: 82
std::ostream& operator<<(std::ostream& out, const Module& module) {
  std::vector<std::pair<std::string, std::string>> lines;  // text, parameter count (none for a buffer)
  // Recursion depth is the model's nesting depth, a handful of levels.
  auto walk = [&](auto& self, const Module& m, const std::string& label, int depth) -> void {
    std::string indent(2 * size_t(depth), ' ');
    lines.emplace_back(indent + label, grouped(m.num_parameters()));
    for (const auto& [name, p] : m.own_parameters())
      lines.emplace_back(indent + "  " + name + " " + to_string(p.shape()), grouped(p.numel()));
    for (const auto& [name, b] : m.own_buffers())
      lines.emplace_back(indent + "  " + name + " " + to_string(b.shape()) + " buffer", "");
    for (const auto& [name, child] : m.children())
      self(self, *child, name + ": " + child->describe(), depth + 1);
  };
  walk(walk, module, module.describe(), 0);

  // Counts right-aligned in one column, two spaces past the longest line.
  size_t text_width = 0, count_width = 0;
  for (const auto& [text, count] : lines) {
    if (count.empty()) continue;  // a buffer's line has no count to align
    text_width = std::max(text_width, text.size());
    count_width = std::max(count_width, count.size());
  }
  for (const auto& [text, count] : lines) {
    if (count.empty()) {
      out << text << "\n";
      continue;
    }
    out << text << std::string(text_width - text.size() + 2 + count_width - count.size(), ' ') << count
        << "\n";
  }
  return out << "total parameters: " << grouped(module.num_parameters()) << "\n";
}

}  // namespace heed::nn
