// What several suites share: seeded random tensors, and whether this build
// runs under the sanitizers (whose instrumented training tests take minutes).
#pragma once

#include <cstdint>

#include "tensor/random.h"

namespace heed::testing {

// A standard normal tensor from its own seed: each test's data is fixed.
inline Tensor randn_(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, gen);
}

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace heed::testing
