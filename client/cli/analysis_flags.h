// The analysing commands' options (declared in cli/option_table.cc) mapped onto
// EngineConfig and the layer filter, in one place.
#ifndef HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_
#define HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_

#include "absl/status/statusor.h"
#include "analysis/layer_filter.h"
#include "htsr/base/arg_parser.h"
#include "htsr/engine.h"

namespace htsr::cli {

absl::StatusOr<EngineConfig> EngineConfigFromArgs(const ParsedArgs& args);
absl::StatusOr<analysis::LayerFilter> LayerFilterFromArgs(const ParsedArgs& args);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_ANALYSIS_FLAGS_H_
