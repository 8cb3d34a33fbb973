#include "nn/loss.h"

namespace heed::nn {
namespace {

const char* name(Reduction r) { return r == Reduction::mean ? "mean" : r == Reduction::sum ? "sum" : "none"; }

// autograd's classification losses take (N, C) and (N,): flatten the leading
// dims of scores (..., C) and target (...) into N, and give a None result
// target's shape back. Both reshapes are views of contiguous data.
template <class Loss>
Variable over_rows(const char* op, const Variable& scores, const Tensor& target, Reduction reduction,
                   Loss loss) {
  Shape expected = scores.shape();
  if (!expected.empty()) expected.pop_back();
  HEED_CHECK(scores.dim() >= 1 && target.defined() && target.shape() == expected, op, ": scores ",
             scores.shape(), " need a target of shape ", expected, ", got ", target.shape());
  const int64_t classes = scores.size(-1);
  Variable rows = loss(reshape(scores, {-1, classes}), reshape(target, {-1}));  // (N, C), (N,)
  return reduction == Reduction::none ? reshape(rows, target.shape()) : rows;
}

}  // namespace

Variable CrossEntropyLoss::forward(const Variable& logits, const Tensor& target) const {
  return over_rows(
      "CrossEntropyLoss", logits, target, options_.reduction, [&](const Variable& x, const Tensor& t) {
        return cross_entropy(x, t, options_.ignore_index, options_.label_smoothing, options_.reduction);
      });
}

std::string CrossEntropyLoss::describe() const {
  return detail::concat("CrossEntropyLoss(ignore_index=", options_.ignore_index,
                        ", label_smoothing=", options_.label_smoothing,
                        ", reduction=", name(options_.reduction), ")");
}

Variable NLLLoss::forward(const Variable& log_probs, const Tensor& target) const {
  return over_rows("NLLLoss", log_probs, target, options_.reduction, [&](const Variable& x, const Tensor& t) {
    return nll_loss(x, t, options_.ignore_index, options_.reduction);
  });
}

std::string NLLLoss::describe() const {
  return detail::concat("NLLLoss(ignore_index=", options_.ignore_index,
                        ", reduction=", name(options_.reduction), ")");
}

Variable MSELoss::forward(const Variable& input, const Variable& target) const {
  HEED_CHECK(input.shape() == target.shape(), "MSELoss: input ", input.shape(), " and target ",
             target.shape(), " differ in shape");
  return mse_loss(input, target, options_.reduction);
}

std::string MSELoss::describe() const {
  return detail::concat("MSELoss(reduction=", name(options_.reduction), ")");
}

}  // namespace heed::nn
