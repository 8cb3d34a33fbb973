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
#include <optional>

#include "tensor/tensor.h"

namespace heed {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0);

  uint32_t next_u32();
  // Two draws, the high word first: a seed for another Generator.
  uint64_t next_u64();
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

// The default generator: what a layer draws from when it is given neither a
// seed nor a Generator& (PyTorch's torch.default_generator). Each such layer
// takes one next_u64() from it as the seed of its own Generator, so two layers
// built alike start different, and one manual_seed(n) at the top of a program
// makes all of its layers reproducible. At program start it is as after
// manual_seed(0).
//
// It is one per process, as in PyTorch, and guarded by a mutex: threads that
// build layers at the same time each take the next seed of the one stream
// (which thread gets which depends on timing: build a model on one thread to
// reproduce it).
// Besides the no-grad flag and the thread count, it is heed's only global
// mutable state.
void manual_seed(uint64_t seed);
// One next_u64() from the default generator.
uint64_t seed_from_default_generator();
// Generator(*seed) when a seed is given, else one seeded from the default
// generator: how a layer with an optional `.seed` makes its weights.
Generator generator_from(std::optional<uint64_t> seed);

// Uniform on [0, 1).
Tensor rand(const Shape& shape, Generator& gen);
// Standard normal.
Tensor randn(const Shape& shape, Generator& gen);
// Uniform on [low, high).
Tensor uniform(const Shape& shape, float low, float high, Generator& gen);
// Normal with the given mean and standard deviation.
Tensor normal(const Shape& shape, float mean, float stddev, Generator& gen);

}  // namespace heed
