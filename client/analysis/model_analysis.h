// Analyses one checkpoint path end to end (open, plan, select, analyse, summarise): the
// unit of work that analyze, and later scan and check, repeat per model.
#ifndef HTSR_CLIENT_CLI_MODEL_ANALYSIS_H_
#define HTSR_CLIENT_CLI_MODEL_ANALYSIS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/layer_filter.h"
#include "htsr/engine.h"
#include "output/model_report.h"

namespace htsr::cli {

struct ModelAnalysisOptions {
  LayerFilter filter;
  bool progress = false;  // draw a progress bar on stderr
};

// Fails only when the checkpoint cannot be opened; bad layers become failed rows.
absl::StatusOr<output::ModelReport> AnalyzeCheckpoint(const std::string& path, const Engine& engine,
                                                      const ModelAnalysisOptions& options);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_MODEL_ANALYSIS_H_
