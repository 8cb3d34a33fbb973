#include "nn/optim.h"

#include <charconv>
#include <cmath>
#include <set>

#include "nn/io/safetensors.h"
#include "tensor/ops.h"

namespace heed::nn {

namespace {

// Shortest text that reads back as the same double, so a saved learning rate
// resumes bit for bit.
std::string exact(double x) {
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, result.ptr);
}

template <class T>
T parse_number(const std::string& text, const std::string& where) {
  T value{};
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  HEED_CHECK(result.ec == std::errc() && result.ptr == text.data() + text.size(), where, ": \"", text,
             "\" is not a number");
  return value;
}

}  // namespace

NamedParameters number_parameters(const std::vector<Variable>& params) {
  NamedParameters named;
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), params[i]);
  return named;
}

// ------------------------------------------------------------- Optimizer

Optimizer::Optimizer(std::string type_name, NamedParameters params, double lr)
    : type_name_(std::move(type_name)), params_(std::move(params)), lr_(lr) {
  std::set<std::string> names;
  for (const auto& [name, p] : params_) {
    HEED_CHECK(p.defined(), type_name_, ": parameter \"", name, "\" is undefined");
    HEED_CHECK(names.insert(name).second, type_name_, ": the parameter name \"", name, "\" is used twice");
  }
  HEED_CHECK(lr >= 0, type_name_, ": the learning rate must be >= 0, got ", lr);
}

void Optimizer::step() {
  NoGradGuard no_grad;
  ++step_count_;
  for (const auto& [name, p] : params_) {
    if (!p.grad().defined()) continue;
    const Tensor& value = p.value();
    HEED_CHECK(value.is_contiguous(), type_name_, ": parameter \"", name,
               "\" is a non-contiguous view; optimizers update contiguous parameters");
    update(name, value, contiguous(p.grad()));
  }
}

void Optimizer::zero_grad() {
  for (const auto& [name, p] : params_) p.zero_grad();
}

float* Optimizer::buffer(const std::string& name, const std::string& key, const Shape& shape, bool* fresh) {
  auto [it, inserted] = buffers_.try_emplace(name + "." + key);
  if (inserted) it->second = zeros(shape);
  if (fresh) *fresh = inserted;
  return it->second.data();
}

void Optimizer::save(const std::string& path) const {
  const Safetensors state = state_dict();
  save_safetensors(path, state.tensors, state.metadata);
}

void Optimizer::load(const std::string& path) { load_state_dict(load_safetensors(path), path); }

Safetensors Optimizer::state_dict() const {
  Metadata meta{{"optimizer", type_name_}, {"lr", exact(lr_)}, {"step", std::to_string(step_count_)}};
  for (const auto& [name, t] : counters_) meta["step." + name] = std::to_string(t);
  return {NamedTensors(buffers_.begin(), buffers_.end()), meta};
}

void Optimizer::load_state_dict(const Safetensors& file, const std::string& source) {
  std::string where = type_name_ + "::load: " + source;
  std::map<std::string, Shape> shapes;
  for (const auto& [name, p] : params_) shapes[name] = p.shape();

  auto saved_type = file.metadata.find("optimizer");
  HEED_CHECK(saved_type != file.metadata.end(), where,
             ": no \"optimizer\" entry in __metadata__; not an optimizer state");
  HEED_CHECK(saved_type->second == type_name_, where, ": the state was saved by ", saved_type->second,
             ", not ", type_name_);
  HEED_CHECK(file.metadata.count("lr") && file.metadata.count("step"), where,
             ": __metadata__ lacks lr or step");
  double lr = parse_number<double>(file.metadata.at("lr"), where);
  int64_t step = parse_number<int64_t>(file.metadata.at("step"), where);

  std::map<std::string, int64_t> counters;
  for (const auto& [key, text] : file.metadata) {
    if (key.rfind("step.", 0) != 0) continue;
    std::string name = key.substr(5);
    HEED_CHECK(shapes.count(name), where, ": a step count for \"", name, "\", which is not a parameter");
    counters[name] = parse_number<int64_t>(text, where);
  }
  // A buffer "fc1.weight.exp_avg" belongs to parameter "fc1.weight": buffer
  // keys have no dots, parameter names may.
  std::map<std::string, Tensor> buffers;
  for (const auto& [key, t] : file.tensors) {
    size_t dot = key.rfind('.');
    std::string name = dot == std::string::npos ? "" : key.substr(0, dot);
    auto it = shapes.find(name);
    HEED_CHECK(it != shapes.end(), where, ": the buffer \"", key, "\" belongs to no parameter");
    HEED_CHECK(t.shape() == it->second, where, ": the buffer \"", key, "\" has shape ", t.shape(),
               " but the parameter has ", it->second);
    buffers[key] = clone(t);  // its own copy: `file` may be another optimizer's live state
  }
  lr_ = lr;
  step_count_ = step;
  counters_ = std::move(counters);
  buffers_ = std::move(buffers);
}

// ------------------------------------------------------------- SGD

SGD::SGD(NamedParameters params, const SGDOptions& options)
    : Optimizer("SGD", std::move(params), options.lr), options_(options) {
  HEED_CHECK(options.momentum >= 0 && options.weight_decay >= 0,
             "SGD: momentum and weight_decay must be >= 0");
  HEED_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
             "SGD: Nesterov momentum needs momentum > 0 and dampening 0");
}

void SGD::update(const std::string& name, const Tensor& value, const Tensor& grad) {
  const float lr = float(this->lr()), wd = float(options_.weight_decay), mu = float(options_.momentum);
  const float damp = float(options_.dampening);
  float* w = value.data();
  const float* g = grad.data();
  bool fresh = false;
  float* b = mu != 0 ? buffer(name, "momentum_buffer", value.shape(), &fresh) : nullptr;
  for (int64_t i = 0, n = value.numel(); i < n; ++i) {
    float d = g[i] + wd * w[i];
    if (b) {
      b[i] = fresh ? d : mu * b[i] + (1 - damp) * d;
      d = options_.nesterov ? d + mu * b[i] : b[i];
    }
    w[i] -= lr * d;
  }
}

// ------------------------------------------------------------- Adam, AdamW

Adam::Adam(NamedParameters params, const AdamOptions& options)
    : Adam("Adam", std::move(params), options, false) {}

Adam::Adam(std::string type_name, NamedParameters params, const AdamOptions& options, bool decoupled)
    : Optimizer(std::move(type_name), std::move(params), options.lr),
      options_(options),
      decoupled_(decoupled) {
  HEED_CHECK(options.betas.first >= 0 && options.betas.first < 1 && options.betas.second >= 0 &&
                 options.betas.second < 1,
             this->type_name(), ": betas must lie in [0, 1), got ", options.betas.first, " and ",
             options.betas.second);
  HEED_CHECK(options.eps >= 0 && options.weight_decay >= 0, this->type_name(),
             ": eps and weight_decay must be >= 0");
}

AdamW::AdamW(NamedParameters params, const AdamWOptions& o)
    : Adam("AdamW", std::move(params),
           AdamOptions{.lr = o.lr, .betas = o.betas, .eps = o.eps, .weight_decay = o.weight_decay},
           /*decoupled=*/true) {}

void Adam::update(const std::string& name, const Tensor& value, const Tensor& grad) {
  const int64_t t = ++counter(name);
  // Scalars in double, as PyTorch computes them in Python; elements in float.
  const double lr = this->lr();
  const float step_size = float(lr / (1 - std::pow(options_.betas.first, double(t))));
  const float bc2_sqrt = float(std::sqrt(1 - std::pow(options_.betas.second, double(t))));
  const float b1 = float(options_.betas.first), b2 = float(options_.betas.second), eps = float(options_.eps);
  const float l2 = decoupled_ ? 0.0f : float(options_.weight_decay);
  const float shrink = decoupled_ ? float(1 - lr * options_.weight_decay) : 1.0f;
  float* w = value.data();
  const float* g = grad.data();
  float* m = buffer(name, "exp_avg", value.shape());
  float* v = buffer(name, "exp_avg_sq", value.shape());
  for (int64_t i = 0, n = value.numel(); i < n; ++i) {
    float gi = g[i] + l2 * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] = w[i] * shrink - step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  }
}

// ------------------------------------------------------------- clipping

double clip_grad_norm(const std::vector<Variable>& params, double max_norm) {
  NoGradGuard no_grad;
  double sum_sq = 0;  // in double: millions of squares add up without drift
  for (const Variable& p : params) {
    if (!p.grad().defined()) continue;
    Tensor g = contiguous(p.grad());
    for (int64_t i = 0; i < g.numel(); ++i) sum_sq += double(g.data()[i]) * g.data()[i];
  }
  double norm = std::sqrt(sum_sq);
  double scale = max_norm / (norm + 1e-6);
  if (scale < 1) {
    for (const Variable& p : params)
      if (p.grad().defined()) mul_(p.grad(), float(scale));
  }
  return norm;
}

}  // namespace heed::nn
