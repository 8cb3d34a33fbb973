#include "nn/dropout.h"

#include "autograd/ops.h"

namespace heed::nn {
namespace {
uint64_t draw_seed(Generator& gen) {
  uint64_t high = gen.next_u32();  // two statements: the draws must happen in this order
  return (high << 32) | gen.next_u32();
}
}  // namespace

Dropout::Dropout(const DropoutOptions& options)
    : UnaryModule("Dropout"), options_(options), gen_(options.seed) {
  HEED_CHECK(options.p >= 0.0f && options.p <= 1.0f, "Dropout: p must be in [0, 1], got ", options.p);
}

Dropout::Dropout(const DropoutOptions& options, Generator& gen)
    : Dropout({.p = options.p, .seed = draw_seed(gen)}) {}

Variable Dropout::forward(const Variable& x) { return dropout(x, options_.p, is_training(), gen_); }

std::string Dropout::describe() const { return detail::concat("Dropout(p=", options_.p, ")"); }

}  // namespace heed::nn
