#include "server/tensor_buffer_pool.h"

#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace htsr::server {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(TensorBufferPool, ReleasedBufferIsReusedForTheSameSize) {
  TensorBufferPool pool(64 * kMiB);
  std::byte* first = nullptr;
  {
    std::shared_ptr<std::byte[]> a = pool.Acquire(8 * kMiB);
    first = a.get();
    std::memset(a.get(), 1, 8 * kMiB);
  }
  EXPECT_EQ(pool.stats().cached_bytes, 8 * kMiB);
  std::shared_ptr<std::byte[]> b = pool.Acquire(8 * kMiB);
  EXPECT_EQ(b.get(), first);
  EXPECT_EQ(pool.stats().hits, 1u);
  EXPECT_EQ(pool.stats().misses, 1u);
  EXPECT_EQ(pool.stats().cached_bytes, 0u);
}

TEST(TensorBufferPool, SlightlySmallerRequestReusesButMuchSmallerDoesNot) {
  TensorBufferPool pool(64 * kMiB);
  { std::shared_ptr<std::byte[]> a = pool.Acquire(10 * kMiB); }
  // 10 MiB for 2 MiB would pin 8 MiB for nothing: allocate instead.
  { std::shared_ptr<std::byte[]> small = pool.Acquire(2 * kMiB); }
  EXPECT_EQ(pool.stats().hits, 0u);
  // 9 MiB fits the 10 MiB buffer within a quarter: reused (smallest fitting one).
  std::shared_ptr<std::byte[]> c = pool.Acquire(9 * kMiB);
  EXPECT_EQ(pool.stats().hits, 1u);
  EXPECT_EQ(pool.stats().cached_bytes, 2 * kMiB);
}

TEST(TensorBufferPool, CapEvictsOldestFirst) {
  TensorBufferPool pool(20 * kMiB);
  std::shared_ptr<std::byte[]> a = pool.Acquire(8 * kMiB);
  std::shared_ptr<std::byte[]> b = pool.Acquire(6 * kMiB);
  std::shared_ptr<std::byte[]> c = pool.Acquire(12 * kMiB);
  a.reset();
  b.reset();
  EXPECT_EQ(pool.stats().cached_bytes, 14 * kMiB);
  c.reset();  // 26 MiB > 20: the oldest (a, 8 MiB) goes
  EXPECT_EQ(pool.stats().cached_bytes, 18 * kMiB);
  EXPECT_EQ(pool.stats().cached_buffers, 2u);
  // A buffer above the cap is never kept.
  { std::shared_ptr<std::byte[]> huge = pool.Acquire(40 * kMiB); }
  EXPECT_EQ(pool.stats().cached_bytes, 18 * kMiB);
}

TEST(TensorBufferPool, SmallBuffersAndDisabledPoolBypassTheCache) {
  TensorBufferPool pool(64 * kMiB);
  { std::shared_ptr<std::byte[]> tiny = pool.Acquire(100); }
  { std::shared_ptr<std::byte[]> zero = pool.Acquire(0); }  // still a valid buffer
  EXPECT_EQ(pool.stats().cached_buffers, 0u);
  EXPECT_EQ(pool.stats().misses, 0u);
  TensorBufferPool off(0);
  { std::shared_ptr<std::byte[]> a = off.Acquire(8 * kMiB); }
  EXPECT_EQ(off.stats().cached_bytes, 0u);
}

TEST(TensorBufferPool, BuffersMayOutliveThePool) {
  std::shared_ptr<std::byte[]> kept;
  {
    TensorBufferPool pool(64 * kMiB);
    kept = pool.Acquire(4 * kMiB);
    std::shared_ptr<std::byte[]> cached = pool.Acquire(4 * kMiB);
  }
  std::memset(kept.get(), 0, 4 * kMiB);
  kept.reset();  // freed, not returned to the destroyed pool (ASan would see a leak/UAF)
}

TEST(TensorBufferPool, ConcurrentAcquireAndRelease) {
  TensorBufferPool pool(16 * kMiB);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 200; ++i) {
        const uint64_t bytes = (1 + (i + t) % 3) * kMiB;
        std::shared_ptr<std::byte[]> b = pool.Acquire(bytes);
        b[0] = std::byte{1};
        b[bytes - 1] = std::byte{2};
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const TensorBufferPool::Stats s = pool.stats();
  EXPECT_EQ(s.hits + s.misses, 800u);
  EXPECT_GT(s.hits, 0u);
  EXPECT_LE(s.cached_bytes, 16 * kMiB);
}

}  // namespace
}  // namespace htsr::server
