// gradcheck: backward against central finite differences (see gradcheck.h for
// the tolerances and why they hold in float32).
#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "autograd/ops.h"

namespace heed {
namespace {

// Where logical element k (row-major) of a strided tensor lives.
float* element(const Tensor& t, int64_t k) {
  int64_t offset = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    offset += (k % t.size(d)) * t.stride(d);
    k /= t.size(d);
  }
  return t.data() + offset;
}

// "(1, 2)": the full index of element k.
std::string index_of(const Shape& shape, int64_t k) {
  Shape index = Shape::filled(shape.size(), 0);
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    index[d] = k % shape[d];
    k /= shape[d];
  }
  return to_string(index);
}

struct Mismatch {
  size_t input;
  int64_t element;
  double analytic, numeric, excess;  // excess: |diff| / tolerance, > 1 fails
};

double relative_error(double a, double n) {
  double scale = std::max(std::fabs(a), std::fabs(n));
  return scale > 0 ? std::fabs(a - n) / scale : 0.0;
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const GradcheckResult& result) {
  return out << (result.ok ? "gradcheck passed" : result.report);
}

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    HEED_CHECK(inputs[i].defined(), "gradcheck: input ", i, " is undefined");
    for (int64_t d = 0; d < inputs[i].dim(); ++d)
      HEED_CHECK(inputs[i].size(d) == 1 || inputs[i].stride(d) != 0, "gradcheck: input ", i, " of shape ",
                 inputs[i].shape(), " is an expanded view whose elements alias; pass contiguous() of it");
  }

  // Analytic: one backward of L = sum(f(x) * r).
  std::vector<Variable> leaves;
  for (const Tensor& x : inputs) leaves.emplace_back(x, /*requires_grad=*/true);
  Variable out = f(leaves);
  HEED_CHECK(out.defined(), "gradcheck: f returned an undefined Variable");
  Generator gen(options.seed);
  Tensor r = contiguous(randn(out.shape(), gen));
  if (out.requires_grad()) sum(out * Variable(r)).backward();

  // Numeric: L at x_k -+ h, in double over the float outputs.
  NoGradGuard no_grad;
  std::vector<Variable> constants(inputs.begin(), inputs.end());
  auto loss = [&] {
    Tensor y = contiguous(f(constants).value());
    HEED_CHECK(y.shape() == r.shape(), "gradcheck: f returned shape ", y.shape(),
               " for perturbed inputs but ", r.shape(), " at first");
    double total = 0;
    for (int64_t k = 0; k < y.numel(); ++k) total += double(y.data()[k]) * double(r.data()[k]);
    return total;
  };

  std::vector<Mismatch> failures;
  Mismatch worst{0, -1, 0, 0, 0};
  int64_t checked = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    Tensor analytic = leaves[i].grad().defined() ? contiguous(leaves[i].grad()) : zeros(x.shape());
    for (int64_t k = 0; k < x.numel(); ++k, ++checked) {
      float* p = element(x, k);
      const float x0 = *p;
      const double h = options.eps * std::max(1.0, std::fabs(double(x0)));
      const float plus = float(x0 + h), minus = float(x0 - h);
      *p = plus;
      double l_plus = loss();
      *p = minus;
      double l_minus = loss();
      *p = x0;
      double numeric = (l_plus - l_minus) / (double(plus) - double(minus));
      double a = analytic.data()[k];
      double excess = std::fabs(a - numeric) / (options.atol + options.rtol * std::fabs(numeric));
      if (!(excess <= 1.0)) {  // also catches NaN
        if (std::isnan(excess)) excess = INFINITY;
        failures.push_back({i, k, a, numeric, excess});
        if (worst.element < 0 || excess > worst.excess) worst = failures.back();
      }
    }
  }
  if (failures.empty()) return {true, ""};

  auto line = [&](const Mismatch& m) {
    return detail::concat("input ", m.input, ", element ", m.element, " ",
                          index_of(inputs[m.input].shape(), m.element), ": analytic ", m.analytic,
                          ", numeric ", m.numeric, ", relative error ",
                          relative_error(m.analytic, m.numeric));
  };
  std::string report =
      detail::concat("gradcheck failed for ", failures.size(), " of ", checked,
                     " elements of d sum(f(x) * r) / dx, r a fixed random projection (eps ", options.eps,
                     ", atol ", options.atol, ", rtol ", options.rtol, ")\n  worst: ", line(worst));
  for (size_t j = 0; j < failures.size() && j < 5; ++j) report += "\n  " + line(failures[j]);
  if (failures.size() > 5) report += detail::concat("\n  ... and ", failures.size() - 5, " more");
  return {false, report};
}

}  // namespace heed
