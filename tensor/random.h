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

// Dropout with a mask that is never stored: element i of x (counted in
// row-major order) is kept, and scaled by 1 / (1 - p), when dropout_uniform(seed, i)
// >= p, else zeroed. The mask is a function of (seed, i) alone, so the same
// seed drops the same elements of any tensor of x's shape: the backward is
// dropout(grad, p, seed), and the graph saves a seed instead of a mask. Each
// element is independent of the others, so threads split the work and the
// result is the same for any thread count.
Tensor dropout(const Tensor& x, float p, uint64_t seed);
// The same in place: x (contiguous) becomes dropout(x, p, seed).
void dropout_(const Tensor& x, float p, uint64_t seed);
// A uniform on [0, 1) with 24 random bits from the pair (seed, i): a hash
// (two rounds of MurmurHash3's 32-bit finalizer), not a stream, so element i
// needs no draws before it.
float dropout_uniform(uint64_t seed, uint64_t i);

}  // namespace heed
