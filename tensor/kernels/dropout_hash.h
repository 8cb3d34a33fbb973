// The counter-based uniform behind heed's dropout masks, inline so that the
// kernels that drop inside a fused loop (flash attention) make the very masks
// tensor dropout() makes: element i is kept iff dropout_hash_uniform(seed, i) >= p.
//
//   u(seed, i) = top 24 bits of fmix(fmix(lo(i) ^ lo(seed)) ^ (hi(i) + hi(seed))) / 2^24
//
// fmix is MurmurHash3's 32-bit finalizer: a bijection in which every input bit
// flips each output bit with probability close to 1/2. A hash, not a stream:
// element i needs no draws before it, so any thread or tile computes its own.
#pragma once

#include <cstdint>

namespace heed::kernels {

inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

// Plain integer arithmetic, so loops over i vectorize.
inline float dropout_hash_uniform(uint32_t s0, uint32_t s1, uint64_t i) {
  const uint32_t h = fmix32(fmix32(uint32_t(i) ^ s0) ^ (uint32_t(i >> 32) + s1));
  return float(h >> 8) * 0x1p-24f;
}

}  // namespace heed::kernels
