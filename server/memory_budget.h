// The server's memory budget for tensor bytes (all calls together). A reactor reserves a
// tensor's full size before allocating its buffer; when the budget is full it stops reading
// from its stream until the bytes are granted, so gRPC's HTTP/2 flow control pushes back
// on the client instead of the server failing or growing without bound.
#ifndef HTSR_SERVER_MEMORY_BUDGET_H_
#define HTSR_SERVER_MEMORY_BUDGET_H_

#include <cstdint>
#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace htsr::server {

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t capacity) : capacity_(capacity) {}
  // Virtual for a tenant's budget in front of this one (server/tenants.h).
  virtual ~MemoryBudget() = default;

  // Reserves `bytes` now and returns true, or queues the request and returns false; then
  // `on_granted` runs (on the thread that releases memory, with the bytes already
  // reserved) once they fit. Strict FIFO: a large request is never starved by small ones.
  // Requests above capacity are the caller's bug (checked against max layer bytes first).
  virtual bool ReserveOrWait(uint64_t bytes, uint64_t waiter_id, std::function<void()> on_granted);

  virtual void Release(uint64_t bytes);

  // Withdraws a queued request. True when it was still queued (its callback will not run);
  // false when it was granted already (the caller then owns the bytes).
  virtual bool CancelWait(uint64_t waiter_id);

  uint64_t capacity() const { return capacity_; }
  uint64_t used() const;
  uint64_t peak() const;
  // Requests queued (calls waiting for bytes).
  size_t waiters() const;

 private:
  struct Waiter {
    uint64_t id;
    uint64_t bytes;
    std::function<void()> on_granted;
  };

  const uint64_t capacity_;
  mutable absl::Mutex mu_;
  uint64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t peak_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_MEMORY_BUDGET_H_
