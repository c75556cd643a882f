#include "server/engine_cache.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace htsr::server {

std::string OptionsKey(const AnalysisOptions& o, bool keep_evals) {
  return absl::StrFormat(
      "%d/%d/%d/%d/%d/%d/%a/%d/%d/%d/%d/%d/%d/%d/%d/%d/%d/%d", o.min_evals, o.max_evals, o.max_n,
      o.pool, o.all_tensors, static_cast<int>(o.fix_fingers), o.finger_thresh, o.max_fingers,
      o.xmax_drop, o.mp_fit, o.randomize, o.seed, o.detx, o.normalize,
      static_cast<int>(o.precision), keep_evals, o.reference_layer_set, static_cast<int>(o.fit));
}

absl::StatusOr<std::shared_ptr<const Engine>> EngineCache::Get(const AnalysisOptions& options,
                                                               bool keep_evals) {
  const std::string key = OptionsKey(options, keep_evals);
  absl::MutexLock lock(&mu_);
  auto it = engines_.find(key);
  if (it != engines_.end()) return it->second;
  EngineConfig config = base_;
  config.options = options;
  config.keep_evals = keep_evals;
  // Engine::Create sets the global BLAS thread count: never under running workers.
  absl::StatusOr<std::unique_ptr<Engine>> engine = absl::UnknownError("not created");
  blas_->RunExclusive([&] { engine = Engine::Create(config); });
  if (!engine.ok()) return engine.status();
  std::shared_ptr<const Engine> shared(std::move(*engine));
  // Evicting only drops the cache's reference: calls still using it keep it alive.
  if (engines_.size() >= capacity_ && !order_.empty()) {
    engines_.erase(order_.front());
    order_.pop_front();
  }
  engines_.emplace(key, shared);
  order_.push_back(key);
  return shared;
}

}  // namespace htsr::server
