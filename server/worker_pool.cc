#include "server/worker_pool.h"

#include <chrono>
#include <exception>
#include <new>
#include <optional>
#include <utility>

namespace htsr::server {

WorkerPool::WorkerPool(WorkQueue* queue, MemoryBudget* budget, BlasThreads* blas, int workers,
                       ServerMetrics* metrics)
    : queue_(queue), budget_(budget), metrics_(metrics), blas_(blas) {
  if (workers < 1) workers = 1;
  threads_.reserve(workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() {
  queue_->Shutdown();
  for (auto& t : threads_) t.join();
}

void WorkerPool::RunItem(WorkItem& item, MemoryBudget* budget, BlasThreads* blas) {
  std::optional<std::vector<LayerResult>> rows;
  if (!item.sink->Abandoned()) {
    // AnalyzeLayer reports bad data as a failed row; only allocation failure can throw,
    // and no exception may cross a worker thread (docs/architecture.md rule 4).
    try {
      blas->RunLayer(item.all_blas_threads,
                     [&] { rows = item.sink->engine().AnalyzeLayerRows(item.plan, item.tensor); });
    } catch (const std::exception& e) {
      LayerResult failed;
      failed.plan = item.plan;
      failed.status = LayerStatus::kFailed;
      failed.warning = LayerWarning::kFailed;
      failed.reason = std::string("server error: ") + e.what();
      rows.emplace();
      rows->push_back(std::move(failed));
    }
  }
  item.tensor.bytes = {};
  item.tensor.owner.reset();
  (item.budget != nullptr ? item.budget : budget)->Release(item.bytes);
  item.bytes = 0;
  if (rows.has_value()) item.sink->OnLayerDone(std::move(*rows));
  item.sink.reset();
}

void WorkerPool::Loop() {
  for (;;) {
    std::optional<WorkItem> item = queue_->Pop();
    if (!item) return;
    const auto taken = std::chrono::steady_clock::now();
    const bool abandoned = item->sink->Abandoned();
    RunItem(*item, budget_, blas_);
    if (metrics_ != nullptr && !abandoned) {
      const auto done = std::chrono::steady_clock::now();
      metrics_->QueueWait(std::chrono::duration<double>(taken - item->queued_at).count());
      metrics_->Solve(std::chrono::duration<double>(done - taken).count());
    }
  }
}

}  // namespace htsr::server
