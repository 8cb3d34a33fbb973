// heed's own seeded random numbers: the same stream on every platform,
// compiler and thread count, so a lesson's "loss 0.4132 after 100 steps" is what
// every learner sees.
//
// The bits come from PCG32 (a 64-bit LCG with a permuted 32-bit output). Floats
// are built only from exactly-rounded IEEE operations (+, *, /, sqrt) and a log
// written here, never from std::normal_distribution, whose algorithm differs
// between standard libraries.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace heed {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);

  uint32_t next_u32();
  // Uniform on [0, 1), 24 random bits.
  float uniform();
  // Standard normal (Marsaglia's polar method).
  float normal();
  // Uniform integer on [0, n).
  int64_t randint(int64_t n);

 private:
  uint64_t state_;
  float spare_ = 0.0f;  // the polar method makes normals in pairs
  bool has_spare_ = false;
};

// Uniform on [0, 1).
Tensor rand(const Shape& shape, Generator& gen);
// Standard normal.
Tensor randn(const Shape& shape, Generator& gen);
// Uniform on [low, high).
Tensor uniform(const Shape& shape, float low, float high, Generator& gen);
// Normal with the given mean and standard deviation.
Tensor normal(const Shape& shape, float mean, float stddev, Generator& gen);

}  // namespace heed
