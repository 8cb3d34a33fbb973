// Rotary position embedding (RoPE, Su et al. 2021): position enters attention
// by rotating queries and keys, so q_i . k_j depends on i - j only.
//
// Pairing: interleaved, as in the paper. The pairs are dims (2m, 2m + 1) of
// each head, m = 0 .. Dh/2 - 1, and pair m at position p turns by p * theta_m,
// theta_m = base^(-2m / Dh):
//
//   x'_{2m}   = x_{2m} cos(p theta_m) - x_{2m+1} sin(p theta_m)
//   x'_{2m+1} = x_{2m} sin(p theta_m) + x_{2m+1} cos(p theta_m)
//
// (Some libraries pair dim m with dim m + Dh/2 instead, "half-split"; the two
// are the same rotation on permuted dims, but weights trained with one do not
// load into the other.) A rotation keeps each pair's norm, so ||x'|| = ||x||.
#pragma once

#include <cstdint>

#include "autograd/ops.h"

namespace heed::nn {

// x: (..., T, Dh) with Dh even  ->  (..., T, Dh), position of row t = offset + t
// (offset: the keys already in a cache when decoding step by step).
Variable rotary(const Variable& x, int64_t offset = 0, float base = 10000.0f);

}  // namespace heed::nn
