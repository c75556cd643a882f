#include "server/blas_threads.h"

#include "htsr/cpu_backend.h"

namespace htsr::server {

bool RunsWithAllThreads(const Engine& engine, const LayerPlan& plan, size_t small_layers) {
  if (engine.backend().Name() != "cpu") return false;
  return RunsWithAllBlasThreads(engine, plan, small_layers);
}

void BlasThreads::RunLayer(bool all_threads, const std::function<void()>& fn) {
  if (all_threads) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    cpu::SetBlasThreads(large_threads_);
    fn();
    cpu::SetBlasThreads(1);
  } else {
    std::shared_lock<std::shared_mutex> lock(mu_);
    // Someone else in the process (an embedded AnalyzeModel in tests) may have changed it.
    if (cpu::BlasThreads() != 1) cpu::SetBlasThreads(1);
    fn();
  }
}

void BlasThreads::RunExclusive(const std::function<void()>& fn) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  fn();
  cpu::SetBlasThreads(1);
}

}  // namespace htsr::server
