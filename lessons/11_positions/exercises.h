// Lesson 11's exercises: write them in exercises.cpp; `make exercises` grades them.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "tensor/tensor.h"

namespace heed::lesson11 {

// Exercise 1: the sinusoidal table of Vaswani et al., (length, dim), dim even:
//   PE(p, 2i) = sin(p / 10000^(2i / dim)),  PE(p, 2i + 1) = cos(p / 10000^(2i / dim))
// for p = 0 .. length - 1 and i = 0 .. dim/2 - 1 (sin and cos interleaved, as
// nn::sinusoidal_table). Compute the angle in double: p / 10000^(2i/dim) in
// float loses digits for large p.
Tensor sinusoidal_table(int64_t length, int64_t dim);

// Exercise 2: the ids of Shaw et al.'s relative positions: (T, S), for T
// queries at positions offset .. offset + T - 1 and S keys at 0 .. S - 1,
//   id(i, j) = clip(j - (offset + i), -k, k) + k,   in 0 .. 2k,
// as floats (they index a (2k + 1, Dh) table with nn::Embedding's lookup).
Tensor relative_distance_ids(int64_t T, int64_t S, int64_t offset, int64_t k);

// Exercise 3: rotary position embedding with heed's pairing (nn/attention/rotary.h):
// x: (B, H, T, Dh), Dh even; row t sits at position p = offset + t, and pair
// m = 0 .. Dh/2 - 1 is dims (2m, 2m + 1), turned by the angle p * theta_m,
// theta_m = 10000^(-2m / Dh):
//   x'_{2m}   = x_{2m} cos(p theta_m) - x_{2m+1} sin(p theta_m)
//   x'_{2m+1} = x_{2m} sin(p theta_m) + x_{2m+1} cos(p theta_m)
// Differentiable (build it from autograd ops: slice, *, -, +, stack, reshape),
// so gradients reach x. Equal to nn::rotary(x, offset), values and gradients.
Variable apply_rotary(const Variable& x, int64_t offset = 0);

}  // namespace heed::lesson11
