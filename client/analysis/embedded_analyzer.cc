#include "cli/model_analysis.h"
#include "scan/checkpoint_analyzer.h"

namespace htsr::scan {

CheckpointAnalyzer MakeEmbeddedAnalyzer(const Engine& engine, cli::LayerFilter filter,
                                        bool progress) {
  return [&engine, filter = std::move(filter),
          progress](const std::string& path) -> absl::StatusOr<AnalyzedCheckpoint> {
    cli::ModelAnalysisOptions options{filter, progress};
    absl::StatusOr<output::ModelReport> report = cli::AnalyzeCheckpoint(path, engine, options);
    if (!report.ok()) return report.status();
    AnalyzedCheckpoint out;
    out.report = *std::move(report);
    return out;
  };
}

}  // namespace htsr::scan
