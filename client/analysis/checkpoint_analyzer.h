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

struct RemotePoolOptions;

// Embedded (an engine made from `config`, owned by `*engine`, its backend note in `*note`)
// or, when `pool.server` is set, the server pool. Errors are the user's: a bad engine
// configuration, or --server in a build without gRPC.
absl::StatusOr<CheckpointAnalyzer> MakeCheckpointAnalyzer(
    const RemotePoolOptions& pool, const EngineConfig& config, LayerFilter filter,
    LayerProgressFactory progress, std::unique_ptr<Engine>* engine, std::string* note);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_CHECKPOINT_ANALYZER_H_
