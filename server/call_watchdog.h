// Timers for calls: a thread that asks every registered call, every `period`, whether one
// of its time limits (--idle-seconds, --stall-seconds, --max-call-seconds) has passed. A
// call that sends nothing gets no reaction from gRPC, so limits checked when a message
// arrives would never fire for it; this does.
#ifndef HTSR_SERVER_CALL_WATCHDOG_H_
#define HTSR_SERVER_CALL_WATCHDOG_H_

#include <cstdint>
#include <memory>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace htsr::server {

class CallWatchdog {
 public:
  class Watched {
   public:
    virtual ~Watched() = default;
    // Ends the call when a limit has passed. Called on the watchdog thread with no
    // watchdog lock held.
    virtual void CheckTimers(absl::Time now) = 0;
  };

  explicit CallWatchdog(absl::Duration period);
  ~CallWatchdog();  // stops and joins the thread
  CallWatchdog(const CallWatchdog&) = delete;
  CallWatchdog& operator=(const CallWatchdog&) = delete;

  void Add(uint64_t id, std::weak_ptr<Watched> call);
  void Remove(uint64_t id);
  size_t size() const;

 private:
  void Loop();

  const absl::Duration period_;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::unordered_map<uint64_t, std::weak_ptr<Watched>> calls_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_CALL_WATCHDOG_H_
