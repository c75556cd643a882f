#include "server/tensor_buffer_pool.h"

#include <algorithm>
#include <iterator>
#include <list>
#include <mutex>
#include <utility>

namespace htsr::server {

struct TensorBufferPool::State {
  struct Cached {
    std::unique_ptr<std::byte[]> data;
    uint64_t capacity = 0;
  };

  explicit State(uint64_t cap) : max_cached_bytes(cap) {}

  // Oldest first. At most max_cached_bytes / kMinPooledBytes entries, so linear search is
  // cheap next to the megabytes each entry saves from faulting in.
  std::list<Cached> cached;
  uint64_t cached_bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  bool closed = false;  // the pool is gone: released buffers are freed
  const uint64_t max_cached_bytes;
  mutable std::mutex mu;

  // Takes a cached buffer of capacity in [bytes, bytes * 5/4] (the smallest such), so a
  // small tensor never pins a much larger buffer.
  std::unique_ptr<std::byte[]> TakeLocked(uint64_t bytes, uint64_t* capacity) {
    auto best = cached.end();
    for (auto it = cached.begin(); it != cached.end(); ++it) {
      if (it->capacity >= bytes && it->capacity - bytes <= bytes / 4 &&
          (best == cached.end() || it->capacity < best->capacity)) {
        best = it;
      }
    }
    if (best == cached.end()) return nullptr;
    *capacity = best->capacity;
    cached_bytes -= best->capacity;
    std::unique_ptr<std::byte[]> data = std::move(best->data);
    cached.erase(best);
    return data;
  }

  void Give(std::byte* data, uint64_t capacity) {
    std::unique_ptr<std::byte[]> owned(data);
    std::list<Cached> evicted;  // freed after the lock is dropped
    {
      std::lock_guard<std::mutex> lock(mu);
      if (closed || capacity > max_cached_bytes) return;
      cached.push_back(Cached{std::move(owned), capacity});
      cached_bytes += capacity;
      while (cached_bytes > max_cached_bytes) {
        cached_bytes -= cached.front().capacity;
        evicted.splice(evicted.end(), cached, cached.begin());
      }
    }
  }
};

TensorBufferPool::TensorBufferPool(uint64_t max_cached_bytes)
    : state_(std::make_shared<State>(max_cached_bytes)) {}

TensorBufferPool::~TensorBufferPool() {
  std::list<State::Cached> drop;
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->closed = true;
  drop.swap(state_->cached);
  state_->cached_bytes = 0;
}

std::shared_ptr<std::byte[]> TensorBufferPool::Acquire(uint64_t bytes) {
  bytes = std::max<uint64_t>(bytes, 1);
  if (bytes < kMinPooledBytes || state_->max_cached_bytes == 0) {
    return std::shared_ptr<std::byte[]>(new std::byte[bytes]);
  }
  uint64_t capacity = bytes;
  std::unique_ptr<std::byte[]> data;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    data = state_->TakeLocked(bytes, &capacity);
    if (data) {
      ++state_->hits;
    } else {
      ++state_->misses;
    }
  }
  if (!data) {
    capacity = bytes;
    data.reset(new std::byte[bytes]);
  }
  std::shared_ptr<State> state = state_;
  return std::shared_ptr<std::byte[]>(
      data.release(),
      [state = std::move(state), capacity](std::byte* p) { state->Give(p, capacity); });
}

TensorBufferPool::Stats TensorBufferPool::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  Stats s;
  s.hits = state_->hits;
  s.misses = state_->misses;
  s.cached_bytes = state_->cached_bytes;
  s.cached_buffers = state_->cached.size();
  return s;
}

}  // namespace htsr::server
