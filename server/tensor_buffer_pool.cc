#include "server/tensor_buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <list>
#include <new>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace htsr::server {
namespace {

// Pooled buffers are mapped directly, never taken from malloc: they stay out of malloc's
// heaps (no fragmentation there, whatever malloc's thresholds), and an evicted buffer's
// memory goes back to the OS at once.
std::byte* MapBuffer(uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<std::byte*>(p);
}

void UnmapBuffer(std::byte* p, uint64_t bytes) { munmap(p, bytes); }

// A mapped buffer owned by the cache.
class Mapping {
 public:
  Mapping(std::byte* data, uint64_t capacity) : data_(data), capacity_(capacity) {}
  Mapping(Mapping&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
  Mapping& operator=(Mapping&&) = delete;
  ~Mapping() {
    if (data_ != nullptr) UnmapBuffer(data_, capacity_);
  }
  std::byte* release() { return std::exchange(data_, nullptr); }
  uint64_t capacity() const { return capacity_; }

 private:
  std::byte* data_;
  uint64_t capacity_;
};

}  // namespace

struct TensorBufferPool::State {
  explicit State(uint64_t cap) : max_cached_bytes(cap) {}

  // Oldest first. At most max_cached_bytes / kMinPooledBytes entries, so linear search is
  // cheap next to the megabytes each entry saves from faulting in.
  mutable absl::Mutex mu;
  std::list<Mapping> cached ABSL_GUARDED_BY(mu);
  uint64_t cached_bytes ABSL_GUARDED_BY(mu) = 0;
  uint64_t hits ABSL_GUARDED_BY(mu) = 0;
  uint64_t misses ABSL_GUARDED_BY(mu) = 0;
  bool closed ABSL_GUARDED_BY(mu) = false;  // the pool is gone: released buffers are unmapped
  const uint64_t max_cached_bytes;

  // Takes a cached buffer of capacity in [bytes, bytes * 5/4] (the smallest such), so a
  // small tensor never pins a much larger buffer. nullptr when there is none.
  std::byte* TakeLocked(uint64_t bytes, uint64_t* capacity) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    auto best = cached.end();
    for (auto it = cached.begin(); it != cached.end(); ++it) {
      if (it->capacity() >= bytes && it->capacity() - bytes <= bytes / 4 &&
          (best == cached.end() || it->capacity() < best->capacity())) {
        best = it;
      }
    }
    if (best == cached.end()) return nullptr;
    *capacity = best->capacity();
    cached_bytes -= best->capacity();
    std::byte* data = best->release();
    cached.erase(best);
    return data;
  }

  void Give(std::byte* data, uint64_t capacity) {
    Mapping owned(data, capacity);
    std::list<Mapping> evicted;  // unmapped after the lock is dropped
    {
      absl::MutexLock lock(&mu);
      if (closed || capacity > max_cached_bytes) return;
      try {
        cached.push_back(std::move(owned));
      } catch (const std::bad_alloc&) {
        return;  // runs in a deleter: never throw; `owned` (if not moved) unmaps
      }
      cached_bytes += capacity;
      while (cached_bytes > max_cached_bytes) {
        cached_bytes -= cached.front().capacity();
        evicted.splice(evicted.end(), cached, cached.begin());
      }
    }
  }
};

TensorBufferPool::TensorBufferPool(uint64_t max_cached_bytes)
    : state_(std::make_shared<State>(max_cached_bytes)) {}

TensorBufferPool::~TensorBufferPool() {
  std::list<Mapping> drop;
  absl::MutexLock lock(&state_->mu);
  state_->closed = true;
  drop.swap(state_->cached);
  state_->cached_bytes = 0;
}

std::shared_ptr<std::byte[]> TensorBufferPool::Acquire(uint64_t bytes) {
  bytes = std::max<uint64_t>(bytes, 1);
  if (bytes < kMinPooledBytes) return std::shared_ptr<std::byte[]>(new std::byte[bytes]);
  // With caching off (cap 0) large buffers are still mapped here, not taken from malloc,
  // and Give unmaps them.
  uint64_t capacity = bytes;
  std::byte* data = nullptr;
  {
    absl::MutexLock lock(&state_->mu);
    data = state_->TakeLocked(bytes, &capacity);
    if (data != nullptr) {
      ++state_->hits;
    } else {
      ++state_->misses;
    }
  }
  if (data == nullptr) {
    capacity = bytes;
    data = MapBuffer(bytes);
  }
  std::shared_ptr<State> state = state_;
  // If making the control block throws, the deleter runs: the buffer goes back.
  return std::shared_ptr<std::byte[]>(
      data, [state = std::move(state), capacity](std::byte* p) { state->Give(p, capacity); });
}

TensorBufferPool::Stats TensorBufferPool::stats() const {
  absl::MutexLock lock(&state_->mu);
  Stats s;
  s.hits = state_->hits;
  s.misses = state_->misses;
  s.cached_bytes = state_->cached_bytes;
  s.cached_buffers = state_->cached.size();
  return s;
}

}  // namespace htsr::server
