// A reuse pool for tensor buffers.
//
// Touching a fresh page costs the kernel a fault and a zeroing (measured here at
// about 10 us per 4 KiB: a new 64 MiB buffer costs ~160 ms, a reused one ~4 ms).
// Training allocates the same sizes every step, so freed buffers are kept by
// size class and handed out again; steady-state training touches no fresh page.
// Thread-safe; each thread also keeps a few small buffers of its own, served
// without a lock. Sizes are rounded up by at most 25% (four classes per power
// of two); at most 1 GiB is kept for reuse, releases beyond it go to the system.
// Buffers of 2 MiB or more are 2 MiB aligned and backed by huge pages (Linux).
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
  size_t cached_bytes = 0;  // bytes held for reuse right now
};
PoolStats pool_stats();
// Returns every cached buffer to the system (tests, and the end of a lesson).
void pool_trim();

}  // namespace heed::kernels
