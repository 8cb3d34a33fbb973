// The buffer pool (see pool.h).
//
// Size classes: a request is rounded up to one of four classes per power of two
// (..., 1024, 1280, 1536, 1792, 2048, 2560, ... bytes; at least 256). A buffer
// is at most 25% larger than asked, and sizes that differ by a few percent (a
// batch with one more token) still share a class. Exact sizes would miss those;
// powers of two would waste up to 50%. The unused tail of a big buffer is
// never touched, so its pages cost address space, not memory.
//
// Cap: at most kMaxCachedBytes are held for reuse; a release beyond that goes
// straight back to the system, so a one-off burst does not pin its peak.
//
// The pool lives for the whole program and is never destroyed: tensors held in
// static objects may release their storage after main() returns.
#include "tensor/kernels/pool.h"

#include <bit>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace heed::kernels {
namespace {

constexpr std::align_val_t kAlign{64};  // a cache line, and an AVX-512 vector
constexpr size_t kMinBytes = 256;
constexpr size_t kMaxCachedBytes = size_t{1} << 30;

size_t class_bytes(size_t count) {
  if (count > size_t{1} << 60) throw std::bad_alloc();  // keeps the rounding below from overflowing
  size_t bytes = count * sizeof(float);
  if (bytes <= kMinBytes) return kMinBytes;
  size_t step = std::bit_floor(bytes - 1) / 4;  // a multiple of 64 past kMinBytes
  return (bytes + step - 1) / step * step;
}

struct Pool {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free;  // class bytes -> buffers
  PoolStats stats;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed, see above
  return *p;
}

}  // namespace

float* pool_acquire(size_t count) {
  size_t bytes = class_bytes(count);
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    auto it = p.free.find(bytes);
    if (it != p.free.end() && !it->second.empty()) {
      void* data = it->second.back();
      it->second.pop_back();
      p.stats.cached_bytes -= bytes;
      ++p.stats.hits;
      return static_cast<float*>(data);
    }
    ++p.stats.misses;
  }
  return static_cast<float*>(::operator new(bytes, kAlign));  // outside the lock
}

void pool_release(float* data, size_t count) {
  if (!data) return;
  size_t bytes = class_bytes(count);
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    if (p.stats.cached_bytes + bytes <= kMaxCachedBytes) {
      p.free[bytes].push_back(data);
      p.stats.cached_bytes += bytes;
      return;
    }
  }
  ::operator delete(data, kAlign);
}

PoolStats pool_stats() {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  return p.stats;
}

void pool_trim() {
  Pool& p = pool();
  std::unordered_map<size_t, std::vector<void*>> cached;
  {
    std::lock_guard lock(p.mutex);
    cached.swap(p.free);
    p.stats.cached_bytes = 0;
  }
  for (auto& [bytes, buffers] : cached)
    for (void* data : buffers) ::operator delete(data, kAlign);
}

}  // namespace heed::kernels
