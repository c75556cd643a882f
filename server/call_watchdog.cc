#include "server/call_watchdog.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace htsr::server {

CallWatchdog::CallWatchdog(absl::Duration period) : period_(period) {
  thread_ = std::thread([this] { Loop(); });
}

CallWatchdog::~CallWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void CallWatchdog::Add(uint64_t id, std::weak_ptr<Watched> call) {
  absl::MutexLock lock(&mu_);
  calls_[id] = std::move(call);
}

void CallWatchdog::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  calls_.erase(id);
}

size_t CallWatchdog::size() const {
  absl::MutexLock lock(&mu_);
  return calls_.size();
}

void CallWatchdog::Loop() {
  std::vector<std::shared_ptr<Watched>> due;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), period_);
      if (stop_) return;
      due.reserve(calls_.size());
      for (const auto& [id, weak] : calls_) {
        if (std::shared_ptr<Watched> call = weak.lock()) due.push_back(std::move(call));
      }
    }
    // Outside the lock: ending a call runs gRPC operations and budget callbacks.
    const absl::Time now = absl::Now();
    for (const std::shared_ptr<Watched>& call : due) call->CheckTimers(now);
    due.clear();
  }
}

}  // namespace htsr::server
