// Threads that take layers from the WorkQueue, one at a time, and run the engine on them.
// Not htsr/base/parallel_for.h: these threads live as long as the server and wait on a
// queue that calls keep filling, while ParallelFor runs a known number of tasks and returns.
#ifndef HTSR_SERVER_WORKER_POOL_H_
#define HTSR_SERVER_WORKER_POOL_H_

#include <cstddef>
#include <thread>
#include <vector>

#include "server/blas_threads.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/work_queue.h"

namespace htsr::server {

class WorkerPool {
 public:
  // Starts `workers` threads.
  // `metrics` (may be null) gets each layer's queue wait and solve time.
  WorkerPool(WorkQueue* queue, MemoryBudget* budget, BlasThreads* blas, int workers,
             ServerMetrics* metrics = nullptr);
  // Shuts the queue down and joins: queued work is finished first (drained).
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs one item: the engine (unless the call was abandoned), then frees the tensor
  // bytes and releases the budget before handing the result on, so a stalled reader
  // resumes as early as possible. Never throws.
  static void RunItem(WorkItem& item, MemoryBudget* budget, BlasThreads* blas);

 private:
  void Loop();

  WorkQueue* queue_;
  MemoryBudget* budget_;
  ServerMetrics* metrics_;
  BlasThreads* blas_;
  std::vector<std::thread> threads_;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_WORKER_POOL_H_
