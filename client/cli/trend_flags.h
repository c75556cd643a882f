// The trend options of compare and report (declared in cli/option_table.cc: where accuracies
// come from, which series, which metrics, the outlier rule) mapped onto TrendOptions.
#ifndef HTSR_CLIENT_CLI_TREND_FLAGS_H_
#define HTSR_CLIENT_CLI_TREND_FLAGS_H_

#include "absl/status/statusor.h"
#include "htsr/base/arg_parser.h"
#include "trends/trend_analysis.h"
#include "trends/trend_inputs.h"

namespace htsr::cli {

// Fills `spec` (the target's source) and returns the fit options; usage errors otherwise.
absl::StatusOr<trends::TrendOptions> TrendOptionsFromArgs(const ParsedArgs& args,
                                                          trends::TargetSpec& spec);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_TREND_FLAGS_H_
