// Reuse of the large host buffers that received tensors are assembled in.
//
// Why: a tensor buffer is tens of MiB. Fresh from malloc it is fresh mmap'd memory, so the
// reactor's memcpy into it takes a page fault per 4 KiB and the worker's free is an
// munmap; profiled on a loopback ingest (tests/bench/remote_vs_embedded.sh, model
// "ingest"), faults and munmap were over half of the gRPC event thread's time. Buffers
// that come back are kept (up to a byte cap) and handed out again for tensors of about the
// same size, which a model's repeated layer shapes make the common case.
//
// Pooled buffers are mapped directly (mmap), never taken from malloc, so they cannot
// fragment malloc's heaps whatever its thresholds. The cache is memory on top of the
// MemoryBudget (which counts the bytes of tensors in flight); the cap bounds it. Buffers
// below kMinPooledBytes are left to malloc, whose own free lists already reuse them.
#ifndef HTSR_SERVER_TENSOR_BUFFER_POOL_H_
#define HTSR_SERVER_TENSOR_BUFFER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace htsr::server {

class TensorBufferPool {
 public:
  static constexpr uint64_t kMinPooledBytes = uint64_t{1} << 20;

  // max_cached_bytes = 0 disables caching (every buffer is freed when released).
  explicit TensorBufferPool(uint64_t max_cached_bytes);
  ~TensorBufferPool();
  TensorBufferPool(const TensorBufferPool&) = delete;
  TensorBufferPool& operator=(const TensorBufferPool&) = delete;

  // A buffer of at least `bytes` bytes (at least 1; a reused one up to 25% more, which the
  // MemoryBudget, counting tensor bytes, does not see), contents unspecified. It returns to
  // the pool when its last reference goes, from any thread, even after the pool object
  // itself is gone (then it is simply freed). Throws std::bad_alloc like new[].
  std::shared_ptr<std::byte[]> Acquire(uint64_t bytes);

  struct Stats {
    uint64_t hits = 0;          // Acquire served from the cache
    uint64_t misses = 0;        // pooled-size Acquire that allocated
    uint64_t cached_bytes = 0;  // held for reuse now
    uint64_t cached_buffers = 0;
  };
  Stats stats() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_TENSOR_BUFFER_POOL_H_
