// The one place that turns --server / engine flags into a CheckpointAnalyzer, for every
// command that analyses checkpoints (analyze, check, scan).
#include "analysis/checkpoint_analyzer.h"
#include "analysis/remote_pool.h"

namespace htsr::analysis {

absl::StatusOr<CheckpointAnalyzer> MakeCheckpointAnalyzer(
    const RemotePoolOptions& pool, const EngineConfig& config, LayerFilter filter,
    LayerProgressFactory progress, std::unique_ptr<Engine>* engine, std::string* note) {
  if (!pool.server.empty()) {
#ifdef HTSR_HAVE_REMOTE
    return MakeRemoteAnalyzer(pool, config.options, std::move(filter));
#else
    return absl::FailedPreconditionError("--server needs htsr built with HTSR_SERVER=ON (gRPC)");
#endif
  }
  absl::StatusOr<std::unique_ptr<Engine>> created = Engine::Create(config);
  if (!created.ok()) return created.status();
  *engine = *std::move(created);
  *note = (*engine)->backend_note();
  return MakeEmbeddedAnalyzer(**engine, std::move(filter), std::move(progress));
}

absl::StatusOr<BaseCheckpointAnalyzer> MakeBaseCheckpointAnalyzer(const RemotePoolOptions& pool,
                                                                  const AnalysisOptions& options,
                                                                  LayerFilter filter,
                                                                  LayerProgressFactory progress,
                                                                  const Engine* engine) {
  if (engine != nullptr) {
    return MakeEmbeddedBaseAnalyzer(*engine, std::move(filter), std::move(progress));
  }
#ifdef HTSR_HAVE_REMOTE
  return MakeRemoteBaseAnalyzer(pool, options, std::move(filter));
#else
  return absl::FailedPreconditionError("--server needs htsr built with HTSR_SERVER=ON (gRPC)");
#endif
}

}  // namespace htsr::analysis
