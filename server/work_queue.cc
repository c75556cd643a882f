#include "server/work_queue.h"

#include <utility>

namespace htsr::server {
namespace {

bool SameShape(const WorkItem& a, const WorkItem& b) {
  return a.plan.rows == b.plan.rows && a.plan.cols == b.plan.cols && a.plan.rf == b.plan.rf &&
         a.tensor.info.dtype == b.tensor.info.dtype;
}

}  // namespace

void WorkQueue::Push(WorkItem item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    items_.push_back(std::move(item));
  }
  cv_.notify_one();
}

std::vector<WorkItem> WorkQueue::PopBatch(size_t max_batch) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return shutdown_ || !items_.empty(); });
  std::vector<WorkItem> batch;
  if (items_.empty()) return batch;
  batch.push_back(std::move(items_.front()));
  items_.pop_front();
  for (auto it = items_.begin(); it != items_.end() && batch.size() < max_batch;) {
    if (SameShape(batch.front(), *it)) {
      batch.push_back(std::move(*it));
      it = items_.erase(it);
    } else {
      ++it;
    }
  }
  return batch;
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
