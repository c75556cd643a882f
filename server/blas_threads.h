// OpenBLAS has one process-wide thread count. Embedded AnalyzeModel solves "large" layers
// one at a time with every BLAS thread and small ones side by side with one thread each;
// OpenBLAS's results depend (in the last bits) on its thread count, so the server follows
// the same policy to return bit-identical results: a large layer runs alone (exclusive
// lock) with all threads, small layers run concurrently (shared lock) with one thread.
#ifndef HTSR_SERVER_BLAS_THREADS_H_
#define HTSR_SERVER_BLAS_THREADS_H_

#include <cstddef>
#include <functional>
#include <mutex>
#include <shared_mutex>

#include "htsr/engine.h"
#include "htsr/layer.h"

namespace htsr::server {

// Whether the server runs this layer alone with all BLAS threads: the engine's rule,
// RunsWithAllBlasThreads (htsr/engine.h), on the CPU backend. Never on a device backend: there BLAS
// runs only for a layer the device refused, and an exclusive lock per call with one layer (as
// `--streams` makes) would stop every other worker; such a fallback layer runs with one BLAS
// thread, and may differ from embedded mode's in the last bits.
bool RunsWithAllThreads(const Engine& engine, const LayerPlan& plan, size_t small_layers);

class BlasThreads {
 public:
  // `large_threads` <= 0: all cores (as embedded mode with --threads 0).
  explicit BlasThreads(int large_threads) : large_threads_(large_threads) {}

  // all_threads: RunsWithAllThreads() of the layer.
  void RunLayer(bool all_threads, const std::function<void()>& fn);
  // For anything that sets the global count itself (Engine::Create): runs alone, then
  // restores the one-thread setting small layers expect.
  void RunExclusive(const std::function<void()>& fn);

 private:
  const int large_threads_;
  std::shared_mutex mu_;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_BLAS_THREADS_H_
