// The buffer pool: reuse, alignment, accounting and thread safety.
#include <doctest/doctest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "tensor/kernels/pool.h"

namespace heed::kernels {
namespace {

bool aligned64(const float* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

TEST_CASE("a released buffer is handed out again for the same size") {
  pool_trim();
  float* a = pool_acquire(1000);
  a[0] = a[999] = 1.0f;  // all 1000 floats are usable
  pool_release(a, 1000);
  float* b = pool_acquire(1000);
  CHECK(b == a);
  pool_release(b, 1000);
}

TEST_CASE("sizes within the same size class share buffers") {
  pool_trim();
  float* a = pool_acquire(1000);  // 4000 bytes -> the 4096-byte class
  pool_release(a, 1000);
  float* b = pool_acquire(1020);  // 4080 bytes, same class
  CHECK(b == a);
  pool_release(b, 1020);
  float* c = pool_acquire(2000);  // another class: a fresh buffer
  CHECK(c != a);
  pool_release(c, 2000);
}

// Sizes above a segment's 8 MiB, so that no hole left elsewhere (in a segment
// that some live tensor keeps) fits them: the blocks land where the test says.
TEST_CASE("a large buffer's memory serves later requests of other sizes, and free neighbours merge") {
  pool_trim();
  const size_t mib = size_t{1} << 18;  // floats in 1 MiB
  float* a = pool_acquire(24 * mib);   // a segment of exactly 24 MiB
  pool_release(a, 24 * mib);
  PoolStats before = pool_stats();
  float* c = pool_acquire(12 * mib);  // half of a's block; the other half stays free
  float* d = pool_acquire(10 * mib);
  CHECK(c == a);
  CHECK(d == a + 12 * mib);
  pool_release(c, 12 * mib);
  pool_release(d, 10 * mib);
  float* e = pool_acquire(24 * mib);  // c, d and the rest merged back into one block
  CHECK(e == a);
  CHECK(pool_stats().misses == before.misses);  // no new segment
  pool_release(e, 24 * mib);
  pool_trim();
}

TEST_CASE("trim returns the segments nothing uses, and a released large buffer is reused without trim") {
  pool_trim();
  PoolStats before = pool_stats();
  float* a = pool_acquire(size_t{5} << 20);  // 20 MiB: a segment of its own
  a[0] = a[(size_t{5} << 20) - 1] = 1.0f;
  pool_release(a, size_t{5} << 20);
  CHECK(pool_stats().cached_bytes == before.cached_bytes + (size_t{20} << 20));
  float* b = pool_acquire(size_t{5} << 20);
  CHECK(b == a);
  pool_release(b, size_t{5} << 20);
  pool_trim();
  CHECK(pool_stats().cached_bytes == before.cached_bytes);
}

TEST_CASE("every buffer is 64-byte aligned") {
  std::vector<std::pair<float*, size_t>> held;
  for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{17}, size_t{100}, size_t{1000}, size_t{4097},
                       size_t{123457}, size_t{1} << 22}) {
    float* p = pool_acquire(count);
    CHECK(p != nullptr);
    CHECK(aligned64(p));
    held.push_back({p, count});
  }
  for (auto [p, count] : held) pool_release(p, count);
}

TEST_CASE("stats count hits, misses and the bytes held; trim empties the pool and this thread's cache") {
  pool_trim();
  // What is left is in other threads' caches (OpenMP workers keep their small
  // scratches until they end), which trim cannot reach; it does not change here.
  PoolStats before = pool_stats();
  float* a = pool_acquire(256);  // 1 KiB, a class of its own
  pool_release(a, 256);
  PoolStats held = pool_stats();
  CHECK(held.misses == before.misses + 1);
  CHECK(held.cached_bytes == before.cached_bytes + 1024);
  float* b = pool_acquire(256);
  CHECK(pool_stats().hits == before.hits + 1);
  CHECK(pool_stats().cached_bytes == before.cached_bytes);
  pool_release(b, 256);
  pool_trim();
  CHECK(pool_stats().cached_bytes == before.cached_bytes);
}

TEST_CASE("the pool keeps at most 1 GiB; the rest goes back to the system") {
  pool_trim();
  const size_t big = size_t{600} << 18;  // 600 MiB of floats, never touched
  float* a = pool_acquire(big);
  float* b = pool_acquire(big);
  pool_release(a, big);
  pool_release(b, big);
  CHECK(pool_stats().cached_bytes > 0);
  CHECK(pool_stats().cached_bytes <= size_t{1} << 30);
  pool_trim();
}

TEST_CASE("concurrent acquire and release from several threads never share a buffer") {
  pool_trim();
  PoolStats before = pool_stats();
  const int threads = 4, rounds = 1000;
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([t, &failures] {
      for (int i = 0; i < rounds; ++i) {
        size_t count = 64 + size_t(i % 7) * 300;  // small buffers: size classes
        float* p = pool_acquire(count);
        for (size_t j = 0; j < count; ++j) p[j] = float(t);
        for (size_t j = 0; j < count; ++j) failures[t] += p[j] != float(t);
        pool_release(p, count);
      }
    });
  for (auto& w : workers) w.join();
  for (int f : failures) CHECK(f == 0);
  PoolStats after = pool_stats();
  CHECK(after.hits + after.misses - before.hits - before.misses == size_t(threads * rounds));
  CHECK(after.misses - before.misses <= size_t(threads * 7));  // at most one buffer per thread and class
  pool_trim();
}

TEST_CASE("concurrent large buffers from several threads never overlap") {
  pool_trim();
  const int threads = 4, rounds = 300;
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([t, &failures] {
      std::vector<std::pair<float*, size_t>> held;
      for (int i = 0; i < rounds; ++i) {
        size_t count = (size_t(i * 7 + t) % 13 + 1) * 20000;  // 80 KiB to 1 MiB: segment blocks
        float* p = pool_acquire(count);
        for (size_t j = 0; j < count; ++j) p[j] = float(t * 1000 + i);
        held.push_back({p, count});
        if (held.size() > 3) {  // check and free the oldest
          auto [q, n] = held.front();
          const float want = float(t * 1000 + i - 3);
          for (size_t j = 0; j < n; ++j) failures[t] += q[j] != want;
          pool_release(q, n);
          held.erase(held.begin());
        }
      }
      for (auto [q, n] : held) pool_release(q, n);
    });
  for (auto& w : workers) w.join();
  for (int f : failures) CHECK(f == 0);
  pool_trim();
}

}  // namespace
}  // namespace heed::kernels
