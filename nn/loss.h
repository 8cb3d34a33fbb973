// Losses with PyTorch's surface over autograd's fused losses (autograd/ops.h
// holds the math and its backward; nothing is recomputed here). They add an
// options struct and accept any leading dims, so a sequence model's logits
// (B, T, C) go in with their targets (B, T) without reshaping:
//
//   nn::CrossEntropyLoss criterion({.ignore_index = pad, .label_smoothing = 0.1f});
//   Variable loss = criterion(logits, targets);  // (B, T, C), (B, T) -> scalar
//
// Reduction::mean averages over the counted targets (ignored ones are not in
// the denominator), Sum adds them, None keeps one loss per target.
#pragma once

#include <cstdint>
#include <string>

#include "autograd/ops.h"
#include "autograd/variable.h"

namespace heed::nn {

struct CrossEntropyLossOptions {
  int64_t ignore_index = -100;  // targets equal to it count for nothing
  // e: the target distribution becomes (1 - e) * onehot + e / C.
  float label_smoothing = 0.0f;
  Reduction reduction = Reduction::mean;
};

// Softmax cross-entropy of raw scores against class ids.
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(const CrossEntropyLossOptions& options = {}) : options_(options) {}
  // logits: (..., C)  target: (...) class ids as floats
  //   ->  a scalar (mean, sum) or target's shape (none)
  Variable forward(const Variable& logits, const Tensor& target) const;
  Variable operator()(const Variable& logits, const Tensor& target) const { return forward(logits, target); }
  std::string describe() const;
  const CrossEntropyLossOptions& options() const { return options_; }

 private:
  CrossEntropyLossOptions options_;
};

struct NLLLossOptions {
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::mean;
};

// Negative log-likelihood of log-probabilities (after log_softmax).
class NLLLoss {
 public:
  explicit NLLLoss(const NLLLossOptions& options = {}) : options_(options) {}
  // log_probs: (..., C)  target: (...)  ->  a scalar (mean, sum) or target's shape (none)
  Variable forward(const Variable& log_probs, const Tensor& target) const;
  Variable operator()(const Variable& log_probs, const Tensor& target) const {
    return forward(log_probs, target);
  }
  std::string describe() const;
  const NLLLossOptions& options() const { return options_; }

 private:
  NLLLossOptions options_;
};

struct MSELossOptions {
  Reduction reduction = Reduction::mean;
};

// Mean squared error: mean((input - target)^2) for Reduction::mean.
class MSELoss {
 public:
  explicit MSELoss(const MSELossOptions& options = {}) : options_(options) {}
  // input, target: the same shape  ->  a scalar (mean, sum) or that shape (none)
  Variable forward(const Variable& input, const Variable& target) const;
  Variable operator()(const Variable& input, const Variable& target) const { return forward(input, target); }
  std::string describe() const;
  const MSELossOptions& options() const { return options_; }

 private:
  MSELossOptions options_;
};

}  // namespace heed::nn
