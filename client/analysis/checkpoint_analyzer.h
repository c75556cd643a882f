// What a scan does to one checkpoint: analyse it, embedded or on a server pool. The scan
// runner calls it from several jobs at once, so implementations are thread-safe.
#ifndef HTSR_CLIENT_ANALYSIS_CHECKPOINT_ANALYZER_H_
#define HTSR_CLIENT_ANALYSIS_CHECKPOINT_ANALYZER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "analysis/layer_filter.h"
#include "analysis/layer_progress.h"
#include "htsr/engine.h"
#include "model/model_report.h"

namespace htsr::analysis {

struct AnalyzedCheckpoint {
  model::ModelReport report;
  std::string server = "embedded";  // who computed it
  int attempts = 1;                 // calls made (remote retries)
};

// Errors mean the checkpoint itself could not be analysed (unreadable file, or every
// retry on every server failed); the scan records them as a failed checkpoint.
using CheckpointAnalyzer = std::function<absl::StatusOr<AnalyzedCheckpoint>(const std::string&)>;

// In-process: analysis::AnalyzeCheckpoint on `engine` (which must outlive the analyzer).
// `progress`: per-model progress (analyze draws a bar); empty where the caller shows its
// own (scan) or wants none.
CheckpointAnalyzer MakeEmbeddedAnalyzer(const Engine& engine, LayerFilter filter,
                                        LayerProgressFactory progress = {});

// Analyses a checkpoint against a base model (analyze --base, a scan manifest's base
// column): analysis::AnalyzeCheckpointAgainstBase. Same thread-safety as CheckpointAnalyzer.
using BaseCheckpointAnalyzer = std::function<absl::StatusOr<AnalyzedCheckpoint>(
    const std::string& path, const std::string& base_path)>;

// In-process only: the delta_* columns need both models' own metrics, which a remote call
// on the difference alone cannot give (docs/spec.md, "Deltas against a base model").
BaseCheckpointAnalyzer MakeEmbeddedBaseAnalyzer(const Engine& engine, LayerFilter filter,
                                                LayerProgressFactory progress = {});

struct RemotePoolOptions;

// Embedded (an engine made from `config`, owned by `*engine`, its backend note in `*note`)
// or, when `pool.server` is set, the server pool. Errors are the user's: a bad engine
// configuration, or --server in a build without gRPC.
absl::StatusOr<CheckpointAnalyzer> MakeCheckpointAnalyzer(
    const RemotePoolOptions& pool, const EngineConfig& config, LayerFilter filter,
    LayerProgressFactory progress, std::unique_ptr<Engine>* engine, std::string* note);

// The BaseCheckpointAnalyzer beside MakeCheckpointAnalyzer's: on `engine` when that made one
// (embedded), else on the pool (the client streams W - W_base; remote_pool_analyzer.cc).
absl::StatusOr<BaseCheckpointAnalyzer> MakeBaseCheckpointAnalyzer(const RemotePoolOptions& pool,
                                                                  const AnalysisOptions& options,
                                                                  LayerFilter filter,
                                                                  LayerProgressFactory progress,
                                                                  const Engine* engine);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_CHECKPOINT_ANALYZER_H_
