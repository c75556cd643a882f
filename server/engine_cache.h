// Engines keyed by (analysis options, keep_evals), shared by the calls that use them.
//
// Why not one Engine per call: Engine::Create sets the process-wide BLAS thread count,
// which must not change under workers that are inside BLAS; and the CUDA backend's setup
// is expensive. Calls with the same options share one (thread-safe) engine.
#ifndef HTSR_SERVER_ENGINE_CACHE_H_
#define HTSR_SERVER_ENGINE_CACHE_H_

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "htsr/engine.h"
#include "server/blas_threads.h"

namespace htsr::server {

class EngineCache {
 public:
  // `base` supplies device and thread settings; options/keep_evals come per call.
  EngineCache(EngineConfig base, size_t capacity, BlasThreads* blas)
      : base_(std::move(base)), capacity_(capacity), blas_(blas) {}

  absl::StatusOr<std::shared_ptr<const Engine>> Get(const AnalysisOptions& options,
                                                    bool keep_evals);

 private:
  const EngineConfig base_;
  const size_t capacity_;
  BlasThreads* blas_;
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const Engine>> engines_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // insertion order, oldest first
};

// A stable key for the options (every field, in declaration order).
std::string OptionsKey(const AnalysisOptions& options, bool keep_evals);

}  // namespace htsr::server

#endif  // HTSR_SERVER_ENGINE_CACHE_H_
