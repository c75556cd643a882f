#include "cli/model_analysis.h"
#include "scan/checkpoint_analyzer.h"

namespace htsr::scan {

CheckpointAnalyzer MakeEmbeddedAnalyzer(const Engine& engine, cli::LayerFilter filter) {
  return [&engine, filter = std::move(filter)](
             const std::string& path) -> absl::StatusOr<AnalyzedCheckpoint> {
    // Per-checkpoint progress is the scan's own bar, not one per model.
    cli::ModelAnalysisOptions options{filter, /*progress=*/false};
    absl::StatusOr<output::ModelReport> report = cli::AnalyzeCheckpoint(path, engine, options);
    if (!report.ok()) return report.status();
    AnalyzedCheckpoint out;
    out.report = *std::move(report);
    return out;
  };
}

}  // namespace htsr::scan
