#include "nn/dropout.h"

#include "autograd/ops.h"

namespace heed::nn {
Dropout::Dropout(const DropoutOptions& options)
    : UnaryModule("Dropout"), options_(options), gen_(generator_from(options.seed)) {
  HEED_CHECK(options.p >= 0.0f && options.p <= 1.0f, "Dropout: p must be in [0, 1], got ", options.p);
}

Dropout::Dropout(const DropoutOptions& options, Generator& gen)
    : Dropout({.p = options.p, .seed = gen.next_u64()}) {}

Variable Dropout::forward(const Variable& x) { return dropout(x, options_.p, is_training(), gen_); }
Variable Dropout::forward(Variable&& x) { return dropout(std::move(x), options_.p, is_training(), gen_); }

std::string Dropout::describe() const { return detail::concat("Dropout(p=", options_.p, ")"); }

}  // namespace heed::nn
