// Analyses one checkpoint path end to end (open, plan, select, analyse, summarise): the
// unit of work that analyze, and later scan and check, repeat per model.
#ifndef HTSR_CLIENT_ANALYSIS_MODEL_ANALYSIS_H_
#define HTSR_CLIENT_ANALYSIS_MODEL_ANALYSIS_H_

#include <string>

#include "absl/status/statusor.h"
#include "analysis/layer_filter.h"
#include "analysis/layer_progress.h"
#include "htsr/engine.h"
#include "model/model_report.h"

namespace htsr::analysis {

struct ModelAnalysisOptions {
  LayerFilter filter;
  LayerProgressFactory progress;  // empty: no progress shown
};

// Fails only when the checkpoint cannot be opened; bad layers become failed rows.
absl::StatusOr<model::ModelReport> AnalyzeCheckpoint(const std::string& path, const Engine& engine,
                                                     const ModelAnalysisOptions& options);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_MODEL_ANALYSIS_H_
