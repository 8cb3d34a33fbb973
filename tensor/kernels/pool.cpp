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
// Per-thread caches: most tensors of a training step are small and die on the
// thread that made them, so each thread keeps up to kPerThread buffers of each
// small class (<= 64 KiB) and serves them without taking the lock; a recorded
// op on a (64,) tensor spends ~10 ns here instead of ~45. A thread's cache goes
// back to the shared pool when the thread ends. Stats are atomics so that they
// count both levels.
//
// Huge pages: a buffer of 2 MiB or more is aligned to 2 MiB and, on Linux,
// advised to be backed by transparent huge pages. One TLB entry then covers
// 2 MiB instead of 4 KiB: a (1024, 1024) matrix is 2 entries, not 1024, so the
// page walks that sgemm's strided packing and softmax's streams would pay are
// gone (measured: sgemm at N = 1024 and 2048 ~6% faster), and a fresh buffer
// faults once per 2 MiB instead of once per 4 KiB.
//
// The pool lives for the whole program and is never destroyed: tensors held in
// static objects may release their storage after main() returns.
#include "tensor/kernels/pool.h"

#include <array>
#include <atomic>
#include <bit>
#include <mutex>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace heed::kernels {
namespace {

constexpr std::align_val_t kAlign{64};  // a cache line, and an AVX-512 vector
constexpr size_t kMinBytes = 256;
constexpr size_t kMaxCachedBytes = size_t{1} << 30;
constexpr size_t kClasses = 1 + 4 * 56;      // up to 2^64 bytes
constexpr size_t kSmallClasses = 1 + 4 * 8;  // classes up to 64 KiB
constexpr size_t kPerThread = 16;
constexpr size_t kHugeBytes = size_t{2} << 20;

std::align_val_t alignment(size_t bytes) {
  return bytes >= kHugeBytes ? std::align_val_t{kHugeBytes} : kAlign;
}

// Throws std::bad_alloc when the system refuses (Tensor's empty() turns it into
// a heed::Error naming the op and the shape). The nothrow new first: under
// AddressSanitizer a failing throwing new aborts the program instead of throwing.
void* allocate(size_t bytes) {
  void* data = ::operator new(bytes, alignment(bytes), std::nothrow);
  if (!data) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE)
  // Advice only: where transparent huge pages are off it changes nothing.
  if (bytes >= kHugeBytes) madvise(data, bytes / kHugeBytes * kHugeBytes, MADV_HUGEPAGE);
#endif
  return data;
}

void deallocate(void* data, size_t bytes) { ::operator delete(data, alignment(bytes)); }

size_t class_bytes(size_t count) {
  if (count > size_t{1} << 60) throw std::bad_alloc();  // keeps the rounding below from overflowing
  size_t bytes = count * sizeof(float);
  if (bytes <= kMinBytes) return kMinBytes;
  size_t step = std::bit_floor(bytes - 1) / 4;  // a multiple of 64 past kMinBytes
  return (bytes + step - 1) / step * step;
}

// Class bytes b in (2^p, 2^(p+1)] is 2^p + j * 2^p / 4, j = 1..4: index 1 + 4 (p - 8) + j - 1.
size_t class_index(size_t bytes) {
  if (bytes <= kMinBytes) return 0;
  size_t base = std::bit_floor(bytes - 1);
  return 1 + 4 * (std::bit_width(base) - 1 - 8) + (bytes - base) / (base / 4) - 1;
}

// The inverse: the bytes of class index i.
size_t index_bytes(size_t i) {
  if (i == 0) return kMinBytes;
  size_t base = kMinBytes << (i - 1) / 4;
  return base + ((i - 1) % 4 + 1) * (base / 4);
}

struct Pool {
  std::mutex mutex;
  std::array<std::vector<void*>, kClasses> free;  // by class index
  std::atomic<size_t> hits{0}, misses{0}, cached_bytes{0};
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed, see above
  return *p;
}

// Takes `bytes` more into the cached total if the cap allows.
bool reserve_cached(Pool& p, size_t bytes) {
  size_t now = p.cached_bytes.load(std::memory_order_relaxed);
  while (now + bytes <= kMaxCachedBytes)
    if (p.cached_bytes.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed)) return true;
  return false;
}

struct ThreadCache {
  std::array<std::vector<void*>, kSmallClasses> free;
  ~ThreadCache() {  // the thread ends: its buffers go back to the shared pool
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    for (size_t c = 0; c < kSmallClasses; ++c)
      p.free[c].insert(p.free[c].end(), free[c].begin(), free[c].end());
  }
};

ThreadCache& thread_cache() {
  thread_local ThreadCache cache;
  return cache;
}

}  // namespace

float* pool_acquire(size_t count) {
  size_t bytes = class_bytes(count), c = class_index(bytes);
  Pool& p = pool();
  void* data = nullptr;
  if (c < kSmallClasses && !thread_cache().free[c].empty()) {
    data = thread_cache().free[c].back();
    thread_cache().free[c].pop_back();
  } else {
    std::lock_guard lock(p.mutex);
    if (!p.free[c].empty()) {
      data = p.free[c].back();
      p.free[c].pop_back();
    }
  }
  if (data) {
    p.cached_bytes.fetch_sub(bytes, std::memory_order_relaxed);
    p.hits.fetch_add(1, std::memory_order_relaxed);
    return static_cast<float*>(data);
  }
  p.misses.fetch_add(1, std::memory_order_relaxed);
  return static_cast<float*>(allocate(bytes));  // outside the lock
}

void pool_release(float* data, size_t count) {
  if (!data) return;
  size_t bytes = class_bytes(count), c = class_index(bytes);
  Pool& p = pool();
  if (reserve_cached(p, bytes)) {
    if (c < kSmallClasses && thread_cache().free[c].size() < kPerThread) {
      if (thread_cache().free[c].capacity() == 0) thread_cache().free[c].reserve(kPerThread);
      thread_cache().free[c].push_back(data);
      return;
    }
    std::lock_guard lock(p.mutex);
    p.free[c].push_back(data);
    return;
  }
  deallocate(data, bytes);
}

PoolStats pool_stats() {
  Pool& p = pool();
  return {p.hits.load(), p.misses.load(), p.cached_bytes.load()};
}

// Frees the shared pool and the calling thread's cache; other threads' caches
// (at most kPerThread small buffers per class each) stay until those threads end.
void pool_trim() {
  Pool& p = pool();
  std::array<std::vector<void*>, kClasses> cached;
  {
    std::lock_guard lock(p.mutex);
    cached.swap(p.free);
  }
  for (size_t c = 0; c < kSmallClasses; ++c) {
    std::vector<void*>& mine = thread_cache().free[c];
    cached[c].insert(cached[c].end(), mine.begin(), mine.end());
    mine.clear();
  }
  for (size_t c = 0; c < kClasses; ++c) {
    p.cached_bytes.fetch_sub(cached[c].size() * index_bytes(c), std::memory_order_relaxed);
    for (void* data : cached[c]) deallocate(data, index_bytes(c));
  }
}

}  // namespace heed::kernels
