#include "server/memory_budget.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace htsr::server {

bool MemoryBudget::ReserveOrWait(uint64_t bytes, uint64_t waiter_id,
                                 std::function<void()> on_granted) {
  absl::MutexLock lock(&mu_);
  if (waiters_.empty() && used_ + bytes <= capacity_) {
    used_ += bytes;
    peak_ = std::max(peak_, used_);
    return true;
  }
  waiters_.push_back(Waiter{waiter_id, bytes, std::move(on_granted)});
  return false;
}

void MemoryBudget::Release(uint64_t bytes) {
  std::vector<std::function<void()>> granted;
  {
    absl::MutexLock lock(&mu_);
    used_ = bytes > used_ ? 0 : used_ - bytes;
    while (!waiters_.empty() && used_ + waiters_.front().bytes <= capacity_) {
      used_ += waiters_.front().bytes;
      peak_ = std::max(peak_, used_);
      granted.push_back(std::move(waiters_.front().on_granted));
      waiters_.pop_front();
    }
  }
  // Outside the lock: a callback resumes a stream read and may reserve again.
  for (auto& fn : granted) fn();
}

bool MemoryBudget::CancelWait(uint64_t waiter_id) {
  bool head_removed = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [&](const Waiter& w) { return w.id == waiter_id; });
    if (it == waiters_.end()) return false;
    head_removed = it == waiters_.begin();
    waiters_.erase(it);
  }
  // The removed head may have been all that blocked the next request (FIFO order).
  if (head_removed) Release(0);
  return true;
}

uint64_t MemoryBudget::used() const {
  absl::MutexLock lock(&mu_);
  return used_;
}

uint64_t MemoryBudget::peak() const {
  absl::MutexLock lock(&mu_);
  return peak_;
}

size_t MemoryBudget::waiters() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

}  // namespace htsr::server
