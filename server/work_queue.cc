#include "server/work_queue.h"

#include <utility>

namespace htsr::server {
void WorkQueue::Push(WorkItem item) {
  {
    absl::MutexLock lock(&mu_);
    item.queued_at = std::chrono::steady_clock::now();
    items_.push_back(std::move(item));
  }
  cv_.Signal();
}

std::optional<WorkItem> WorkQueue::Pop() {
  absl::MutexLock lock(&mu_);
  while (!shutdown_ && items_.empty()) cv_.Wait(&mu_);
  if (items_.empty()) return std::nullopt;
  WorkItem item = std::move(items_.front());
  items_.pop_front();
  return item;
}

std::vector<WorkItem> WorkQueue::RemoveCall(uint64_t call_id) {
  std::vector<WorkItem> removed;
  absl::MutexLock lock(&mu_);
  for (auto it = items_.begin(); it != items_.end();) {
    if (it->call_id == call_id) {
      removed.push_back(std::move(*it));
      it = items_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

void WorkQueue::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
  }
  cv_.SignalAll();
}

size_t WorkQueue::size() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

}  // namespace htsr::server
