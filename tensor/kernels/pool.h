// A reuse pool for tensor buffers.
//
// Touching a fresh page costs the kernel a fault and a zeroing (measured here at
// about 10 us per 4 KiB: a new 64 MiB buffer costs ~160 ms, a reused one ~4 ms).
// Training allocates the same sizes every step, so freed buffers are kept and
// handed out again; steady-state training touches no fresh page. Buffers of up
// to 32 KiB are kept by size class (rounded up by at most 25%, four classes per
// power of two), and each thread also keeps a few of its own, served without a
// lock. Larger ones are carved out of shared 2 MiB aligned segments (backed by
// huge pages on Linux), best fit, with freed neighbours merged, so memory one
// size freed serves the next size asked for. Thread-safe; at most 1 GiB is kept
// for reuse, the rest goes back to the system.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed::kernels {

// 64-byte aligned storage for at least `count` floats (contents unspecified);
// std::bad_alloc when the system cannot give it.
float* pool_acquire(size_t count);
// Gives a buffer from pool_acquire(count) back for reuse.
void pool_release(float* data, size_t count);

struct PoolStats {
  size_t hits = 0;          // acquisitions served from the pool
  size_t misses = 0;        // acquisitions that had to allocate
  size_t cached_bytes = 0;  // bytes held for reuse right now (the free parts of segments too)
};
PoolStats pool_stats();
// Returns every cached buffer (and the free pages of segments still in use) to
// the system (tests, and the end of a lesson).
void pool_trim();

}  // namespace heed::kernels
