// What a scan does to one checkpoint: analyse it, embedded or on a server pool. The scan
// runner calls it from several jobs at once, so implementations are thread-safe.
#ifndef HTSR_CLIENT_SCAN_CHECKPOINT_ANALYZER_H_
#define HTSR_CLIENT_SCAN_CHECKPOINT_ANALYZER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/layer_filter.h"
#include "htsr/engine.h"
#include "output/model_report.h"

namespace htsr::scan {

struct AnalyzedCheckpoint {
  output::ModelReport report;
  std::string server = "embedded";  // who computed it
  int attempts = 1;                 // calls made (remote retries)
};

// Errors mean the checkpoint itself could not be analysed (unreadable file, or every
// retry on every server failed); the scan records them as a failed checkpoint.
using CheckpointAnalyzer = std::function<absl::StatusOr<AnalyzedCheckpoint>(const std::string&)>;

// In-process: cli::AnalyzeCheckpoint on `engine` (which must outlive the analyzer).
// `progress`: a per-model progress bar on stderr (analyze); off where the caller draws its
// own (scan) or wants none.
CheckpointAnalyzer MakeEmbeddedAnalyzer(const Engine& engine, cli::LayerFilter filter,
                                        bool progress = false);

struct RemotePoolOptions;

// Embedded (an engine made from `config`, owned by `*engine`, its backend note in `*note`)
// or, when `pool.server` is set, the server pool. Errors are the user's: a bad engine
// configuration, or --server in a build without gRPC.
absl::StatusOr<CheckpointAnalyzer> MakeCheckpointAnalyzer(const RemotePoolOptions& pool,
                                                          const EngineConfig& config,
                                                          cli::LayerFilter filter, bool progress,
                                                          std::unique_ptr<Engine>* engine,
                                                          std::string* note);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_CHECKPOINT_ANALYZER_H_
