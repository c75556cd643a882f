#include "analysis/base_delta.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/model_analysis.h"

namespace htsr::analysis {

CheckpointAnalyzer MakeEmbeddedAnalyzer(const Engine& engine, LayerFilter filter,
                                        LayerProgressFactory progress) {
  return [&engine, options = ModelAnalysisOptions{std::move(filter), std::move(progress)}](
             const std::string& path) -> absl::StatusOr<AnalyzedCheckpoint> {
    absl::StatusOr<model::ModelReport> report = AnalyzeCheckpoint(path, engine, options);
    if (!report.ok()) return report.status();
    AnalyzedCheckpoint out;
    out.report = *std::move(report);
    return out;
  };
}

BaseCheckpointAnalyzer MakeEmbeddedBaseAnalyzer(const Engine& engine, LayerFilter filter,
                                                LayerProgressFactory progress) {
  return [&engine, options = ModelAnalysisOptions{std::move(filter), std::move(progress)}](
             const std::string& path,
             const std::string& base_path) -> absl::StatusOr<AnalyzedCheckpoint> {
    absl::StatusOr<model::ModelReport> report =
        AnalyzeCheckpointAgainstBase(path, base_path, engine, options);
    if (!report.ok()) return report.status();
    AnalyzedCheckpoint out;
    out.report = *std::move(report);
    return out;
  };
}

}  // namespace htsr::analysis
