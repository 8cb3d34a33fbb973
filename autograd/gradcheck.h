// gradcheck: tests a backward against central finite differences.
//
//   CHECK(gradcheck([](const std::vector<Variable>& v) { return matmul(v[0], v[1]); }, {a, b}));
//
// f may return any shape; gradcheck reduces it to the scalar L = sum(f(x) * r)
// with a fixed random r (so every output element matters, each with its own
// weight), then compares, for every element x_k of every input,
//   analytic  dL/dx_k from backward(), with
//   numeric   (L(x_k + h) - L(x_k - h)) / (2h),   h = eps * max(1, |x_k|).
//
// Float32 and finite differences: L is evaluated in float (the ops) but summed
// in double, and the denominator is the difference of the two perturbed float
// values actually used, not 2h. The numeric estimate then errs by about
// h^2 |f'''| / 6 (truncation) plus ~1e-7 |L| / h (rounding). eps = 1e-2 keeps
// both below ~1e-3 for inputs and outputs of order 1, hence the defaults
// atol = 2e-3 and rtol = 1e-2: element k passes when
//   |analytic - numeric| <= atol + rtol * |numeric|.
// Inputs should keep ~eps away from kinks (relu at 0, max ties, abs at 0).
//
// Inputs may be any views (transposed, sliced) but not expanded ones, whose
// elements alias: they are perturbed in place and restored exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "autograd/variable.h"

namespace heed {

struct GradcheckOptions {
  double eps = 1e-2;  // step relative to max(1, |x|)
  double atol = 2e-3;
  double rtol = 1e-2;
  uint64_t seed = 0;  // of the projection r
};

struct GradcheckResult {
  bool ok;
  // "" when ok; else the worst element (input, element, analytic, numeric,
  // relative error) and the first few failures.
  std::string report;
  explicit operator bool() const { return ok; }
};
// doctest prints this when CHECK(gradcheck(...)) fails.
std::ostream& operator<<(std::ostream& out, const GradcheckResult& result);

GradcheckResult gradcheck(const std::function<Variable(const std::vector<Variable>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace heed
