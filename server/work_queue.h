// Assembled layers waiting for the engine, from all calls, oldest first. Bounded in bytes
// by the MemoryBudget (reserved before a layer is assembled), not by count.
//
// One layer per pop. (It used to hand a worker the oldest layer plus queued layers of the
// same shape, for a batched solve that the workers never made: the group was solved one
// after the other on one worker while others idled, and jumped ahead of older layers of
// other calls. On a GPU the backend's lanes overlap layers instead.)
#ifndef HTSR_SERVER_WORK_QUEUE_H_
#define HTSR_SERVER_WORK_QUEUE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "htsr/engine.h"
#include "htsr/layer.h"
#include "htsr/tensor.h"
#include "server/memory_budget.h"

namespace htsr::server {

// Where a finished layer goes (the call's reactor). Implementations are thread-safe.
class LayerSink {
 public:
  virtual ~LayerSink() = default;
  virtual const Engine& engine() const = 0;
  // True once the call is cancelled or finished: its queued work is pointless.
  virtual bool Abandoned() const = 0;
  // The rows of one layer (one, or one per conv slice with pool = false).
  virtual void OnLayerDone(std::vector<LayerResult> rows) = 0;
};

struct WorkItem {
  uint64_t call_id = 0;
  std::shared_ptr<LayerSink> sink;
  LayerPlan plan;
  TensorView tensor;   // owns the assembled bytes
  uint64_t bytes = 0;  // reserved in the MemoryBudget; released when the item is dropped
  MemoryBudget* budget = nullptr;  // where `bytes` were reserved (the call's); null = the pool's
  bool all_blas_threads = false;   // see RunsWithAllThreads (blas_threads.h)
  std::chrono::steady_clock::time_point queued_at;  // set by Push (queue-wait metric)
};

class WorkQueue {
 public:
  void Push(WorkItem item);

  // Blocks until work is queued or Shutdown(). Returns the oldest item; nullopt after
  // Shutdown() once the queue is drained.
  std::optional<WorkItem> Pop();

  // Removes every queued item of a call (cancelled or failed) and returns them so that
  // the caller releases their memory at once.
  std::vector<WorkItem> RemoveCall(uint64_t call_id);

  void Shutdown();
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<WorkItem> items_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_WORK_QUEUE_H_
