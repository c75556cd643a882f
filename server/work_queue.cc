#include "server/work_queue.h"

#include <utility>

namespace htsr::server {
void WorkQueue::Push(WorkItem item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
  }
  cv_.notify_one();
}

std::optional<WorkItem> WorkQueue::Pop() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return shutdown_ || !items_.empty(); });
  if (items_.empty()) return std::nullopt;
  WorkItem item = std::move(items_.front());
  items_.pop_front();
  return item;
}

std::vector<WorkItem> WorkQueue::RemoveCall(uint64_t call_id) {
  std::vector<WorkItem> removed;
  std::lock_guard<std::mutex> lock(mu_);
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
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

size_t WorkQueue::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

}  // namespace htsr::server
