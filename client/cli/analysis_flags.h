// Flags shared by every command that analyses (analyze, describe, and later scan/check),
// mapped onto AnalysisOptions / EngineConfig in one place.
#ifndef HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_
#define HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_

#include "absl/status/statusor.h"
#include "analysis/layer_filter.h"
#include "cli/arg_parser.h"
#include "htsr/engine.h"

namespace htsr::cli {

// --layers, --all-tensors and the size filter: what describe needs.
void AddSelectionFlags(ArgParser& parser);
// Selection flags plus the fit/analysis options, --threads, --device, --precision.
void AddAnalysisFlags(ArgParser& parser);

absl::StatusOr<EngineConfig> EngineConfigFromArgs(const ParsedArgs& args);
absl::StatusOr<analysis::LayerFilter> LayerFilterFromArgs(const ParsedArgs& args);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_
