// The buffer pool (see pool.h).
//
// Small buffers (up to 32 KiB) are kept by size class: a request is rounded up
// to one of four classes per power of two (..., 1024, 1280, 1536, 1792, 2048,
// 2560, ... bytes; at least 256), so a buffer is at most 25% larger than asked,
// and sizes that differ by a few percent (a batch with one more token) still
// share a class. Most tensors of a training step are small and die on the
// thread that made them, so each thread keeps up to kPerThread buffers of each
// class and serves them without taking the lock; a recorded op on a (64,)
// tensor spends ~10 ns here instead of ~45. A thread's cache goes back to the
// shared pool when the thread ends.
//
// Large buffers are carved out of segments, big regions taken from the system:
// a request (rounded up to whole 4 KiB pages) takes the smallest free block that
// fits, the lowest-addressed of equals, and the rest of that block stays free; a
// released block merges with its free neighbours. Why not size classes here
// too: memory cached in one class cannot serve another. A Transformer step's
// forward holds many (B, T, D) activations, its backward (B, T, F) temporaries
// and fresh gradients, and per-class lists keep each class's own peak at once:
// measured on the step of tests/bench/bench_transformer.cpp, the classes held
// 48 MiB where the step's tensors peaked at 39 MiB live (weights and Adam's
// moments aside); segments hold 40. Training asks for the same sizes in the
// same order every step, so the blocks fall on the same addresses and no fresh
// page is touched after the first steps.
//
// Segments are 8 MiB, or a larger request's own size rounded up to 2 MiB; the
// untouched part of a segment costs address space, not memory. They come from
// mmap where there is one: munmap gives the memory back for certain (glibc keeps
// big freed blocks in its heap once its mmap threshold has grown past them).
// They are 2 MiB aligned and, on Linux, advised to be backed by transparent
// huge pages: one TLB entry then covers 2 MiB instead of 4 KiB, so the page
// walks that sgemm's strided packing and softmax's streams would pay are gone
// (measured: sgemm at N = 1024 and 2048 ~6% faster), and a fresh region
// faults once per 2 MiB instead of once per 4 KiB.
//
// Cap: at most kMaxCachedBytes are held for reuse. A small buffer released
// beyond it goes straight back to the system; a segment that becomes wholly
// free while more than that is free goes back too, so a one-off burst does not
// pin its peak. pool_trim() returns every small buffer and every segment with
// nothing in use, and hands the free pages of the others back (madvise).
//
// Under AddressSanitizer a free block is poisoned, so reading a released large
// buffer is reported as it would be with the system allocator.
//
// The pool lives for the whole program and is never destroyed: tensors held in
// static objects may release their storage after main() returns.
#include "tensor/kernels/pool.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define HEED_POOL_MMAP 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HEED_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEED_POOL_ASAN 1
#endif
#endif
#if defined(HEED_POOL_ASAN)
#include <sanitizer/asan_interface.h>
#define HEED_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define HEED_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define HEED_POISON(p, n) ((void)(p), (void)(n))
#define HEED_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace heed::kernels {
namespace {

constexpr std::align_val_t kAlign{64};  // a cache line, and an AVX-512 vector
constexpr size_t kMinBytes = 256;
constexpr size_t kMaxCachedBytes = size_t{1} << 30;
constexpr size_t kLargeBytes = size_t{32} << 10;  // requests of more go to segments
constexpr size_t kSmallClasses = 1 + 4 * 7;       // classes up to kLargeBytes
constexpr size_t kPerThread = 16;
constexpr size_t kPageBytes = 4096;
constexpr size_t kHugeBytes = size_t{2} << 20;
constexpr size_t kSegmentBytes = size_t{8} << 20;

size_t round_up(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

// ------------------------------------------------------------- small buffers

// Throws std::bad_alloc when the system refuses (Tensor's empty() turns it into
// a heed::Error naming the op and the shape). The nothrow new first: under
// AddressSanitizer a failing throwing new aborts the program instead of throwing.
void* allocate(size_t bytes) {
  void* data = ::operator new(bytes, kAlign, std::nothrow);
  if (!data) throw std::bad_alloc();
  return data;
}

void deallocate(void* data) { ::operator delete(data, kAlign); }

size_t class_bytes(size_t bytes) {
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

// ------------------------------------------------------------- segments

// A 2 MiB aligned region of `bytes` (a multiple of 2 MiB), or std::bad_alloc.
char* map_segment(size_t bytes) {
#if defined(HEED_POOL_MMAP)
  const size_t span = bytes + kHugeBytes;  // room to align the start
  void* got = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (got == MAP_FAILED) throw std::bad_alloc();
  char* raw = static_cast<char*>(got);
  char* start = raw + (kHugeBytes - reinterpret_cast<uintptr_t>(raw) % kHugeBytes) % kHugeBytes;
  if (start > raw) munmap(raw, size_t(start - raw));
  if (raw + span > start + bytes) munmap(start + bytes, size_t(raw + span - (start + bytes)));
#if defined(MADV_HUGEPAGE)
  madvise(start, bytes, MADV_HUGEPAGE);  // advice only: where huge pages are off it changes nothing
#endif
  return start;
#else
  void* data = ::operator new (bytes, std::align_val_t{kHugeBytes}, std::nothrow);
  if (!data) throw std::bad_alloc();
  return static_cast<char*>(data);
#endif
}

// The shadow is cleared first: the system may hand the same addresses out again
// (a thread's stack, say), and poison left on them would read as a bug there.
void unmap_segment(char* start, size_t bytes) {
  HEED_UNPOISON(start, bytes);
#if defined(HEED_POOL_MMAP)
  munmap(start, bytes);
#else
  (void)bytes;
  ::operator delete (start, std::align_val_t{kHugeBytes});
#endif
}

// The free blocks of all segments, by (bytes, age of their segment, address)
// for best fit and by address for merging. Guarded by Pool::segment_mutex.
struct Segments {
  struct Segment {
    size_t bytes, free;
    uint64_t age;  // 0 for the first segment made, 1 for the next, ...
  };
  struct Block {
    size_t bytes;
    uint64_t age;
  };
  std::map<char*, Segment> all;  // by start
  std::set<std::tuple<size_t, uint64_t, char*>> by_size;
  std::map<char*, Block> by_address;
  uint64_t made = 0;

  std::map<char*, Segment>::iterator segment_of(char* p) { return std::prev(all.upper_bound(p)); }
  void add_free(char* p, size_t bytes, uint64_t age) {
    by_size.insert({bytes, age, p});
    by_address.emplace(p, Block{bytes, age});
  }
  void remove_free(std::map<char*, Block>::iterator block) {
    by_size.erase({block->second.bytes, block->second.age, block->first});
    by_address.erase(block);
  }
};

struct Pool {
  std::mutex mutex;                                    // the small buffers' shared lists
  std::array<std::vector<void*>, kSmallClasses> free;  // by class index
  std::mutex segment_mutex;
  Segments segments;
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

float* acquire_small(size_t bytes) {
  bytes = class_bytes(bytes);
  const size_t c = class_index(bytes);
  Pool& p = pool();
  void* data = nullptr;
  if (!thread_cache().free[c].empty()) {
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

void release_small(float* data, size_t bytes) {
  bytes = class_bytes(bytes);
  const size_t c = class_index(bytes);
  Pool& p = pool();
  if (reserve_cached(p, bytes)) {
    if (thread_cache().free[c].size() < kPerThread) {
      if (thread_cache().free[c].capacity() == 0) thread_cache().free[c].reserve(kPerThread);
      thread_cache().free[c].push_back(data);
      return;
    }
    std::lock_guard lock(p.mutex);
    p.free[c].push_back(data);
    return;
  }
  deallocate(data);
}

// Best fit; among equal fits the oldest segment's, so that new segments, made
// in a burst, empty out again. (Measured on the Transformer step of
// tests/bench/bench_transformer.cpp: 52 MiB of segments touched with fused
// attention, against 56 when the lowest address wins: mmap hands out newer
// segments below older ones.)
float* acquire_large(size_t bytes) {
  const size_t used = bytes;
  bytes = round_up(bytes, kPageBytes);
  Pool& p = pool();
  Segments& s = p.segments;
  std::lock_guard lock(p.segment_mutex);
  auto fit = s.by_size.lower_bound({bytes, 0, nullptr});
  if (fit == s.by_size.end()) {
    const size_t size = std::max(kSegmentBytes, round_up(bytes, kHugeBytes));
    char* start = map_segment(size);
    HEED_POISON(start, size);
    const uint64_t age = s.made++;
    s.all.emplace(start, Segments::Segment{size, size, age});
    s.add_free(start, size, age);
    p.cached_bytes.fetch_add(size, std::memory_order_relaxed);
    p.misses.fetch_add(1, std::memory_order_relaxed);
    fit = s.by_size.find({size, age, start});
  } else {
    p.hits.fetch_add(1, std::memory_order_relaxed);
  }
  const auto [size, age, data] = *fit;
  s.remove_free(s.by_address.find(data));
  if (size > bytes) s.add_free(data + bytes, size - bytes, age);
  s.segment_of(data)->second.free -= bytes;
  p.cached_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  HEED_UNPOISON(data, used);
  return reinterpret_cast<float*>(data);
}

void release_large(float* buffer, size_t bytes) {
  bytes = round_up(bytes, kPageBytes);
  char* data = reinterpret_cast<char*>(buffer);
  Pool& p = pool();
  Segments& s = p.segments;
  std::lock_guard lock(p.segment_mutex);
  HEED_POISON(data, bytes);
  auto segment = s.segment_of(data);
  char* const end = segment->first + segment->second.bytes;
  char* start = data;
  size_t size = bytes;
  if (auto next = s.by_address.find(data + bytes); next != s.by_address.end() && data + bytes < end) {
    size += next->second.bytes;
    s.remove_free(next);
  }
  if (auto prev = s.by_address.lower_bound(data); prev != s.by_address.begin()) {
    --prev;
    if (prev->first >= segment->first && prev->first + prev->second.bytes == data) {
      start = prev->first;
      size += prev->second.bytes;
      s.remove_free(prev);
    }
  }
  segment->second.free += bytes;
  const size_t cached = p.cached_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (segment->second.free == segment->second.bytes && cached > kMaxCachedBytes) {
    p.cached_bytes.fetch_sub(size, std::memory_order_relaxed);
    s.all.erase(segment);
    unmap_segment(start, size);
    return;
  }
  s.add_free(start, size, segment->second.age);
}

}  // namespace

float* pool_acquire(size_t count) {
  if (count > size_t{1} << 60) throw std::bad_alloc();  // keeps the rounding from overflowing
  const size_t bytes = count * sizeof(float);
  return bytes > kLargeBytes ? acquire_large(bytes) : acquire_small(bytes);
}

void pool_release(float* data, size_t count) {
  if (!data) return;
  const size_t bytes = count * sizeof(float);
  if (bytes > kLargeBytes)
    release_large(data, bytes);
  else
    release_small(data, bytes);
}

PoolStats pool_stats() {
  Pool& p = pool();
  return {p.hits.load(), p.misses.load(), p.cached_bytes.load()};
}

// Frees the shared small lists and the calling thread's cache (other threads'
// caches, at most kPerThread small buffers per class each, stay until those
// threads end), every segment with nothing in use, and the free pages of the rest.
void pool_trim() {
  Pool& p = pool();
  std::array<std::vector<void*>, kSmallClasses> cached;
  {
    std::lock_guard lock(p.mutex);
    cached.swap(p.free);
  }
  for (size_t c = 0; c < kSmallClasses; ++c) {
    std::vector<void*>& mine = thread_cache().free[c];
    cached[c].insert(cached[c].end(), mine.begin(), mine.end());
    mine.clear();
  }
  for (size_t c = 0; c < kSmallClasses; ++c) {
    p.cached_bytes.fetch_sub(cached[c].size() * index_bytes(c), std::memory_order_relaxed);
    for (void* data : cached[c]) deallocate(data);
  }
  Segments& s = p.segments;
  std::lock_guard lock(p.segment_mutex);
  for (auto segment = s.all.begin(); segment != s.all.end();) {
    auto [start, info] = *segment;
    if (info.free == info.bytes) {
      s.remove_free(s.by_address.find(start));
      p.cached_bytes.fetch_sub(info.bytes, std::memory_order_relaxed);
      unmap_segment(start, info.bytes);
      segment = s.all.erase(segment);
      continue;
    }
#if defined(HEED_POOL_MMAP) && defined(MADV_DONTNEED)
    for (auto block = s.by_address.lower_bound(start);
         block != s.by_address.end() && block->first < start + info.bytes; ++block) {
      madvise(block->first, block->second.bytes, MADV_DONTNEED);
    }
#endif
    ++segment;
  }
}

}  // namespace heed::kernels
