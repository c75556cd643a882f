#include "cli/trend_flags.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace htsr::cli {

absl::StatusOr<trends::TrendOptions> TrendOptionsFromArgs(const ParsedArgs& args,
                                                          trends::TargetSpec& spec) {
  trends::TrendOptions o;
  if (auto m = args.Get("metrics")) {
    o.metrics = trends::SplitList(*m);
    if (o.metrics.empty()) return absl::InvalidArgumentError("--metrics is empty");
  }
  if (auto z = args.Get("outlier-threshold")) {
    double v = 0;
    if (!absl::SimpleAtod(*z, &v) || !(v > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--outlier-threshold: '", *z, "' is not a positive number"));
    }
    o.outlier_threshold = v;
  }
  spec.accuracy_file = args.GetOr("accuracy", "");
  spec.accuracy.column = args.GetOr("accuracy-column", "");
  spec.accuracy.series = args.GetOr("series", "");
  spec.accuracy.kind = args.GetOr("target", "");
  spec.target_column = args.GetOr("target-column", "");
  if (!spec.accuracy.kind.empty() && spec.accuracy.kind != "accuracy" &&
      spec.accuracy.kind != "error") {
    return absl::InvalidArgumentError(
        absl::StrCat("--target is accuracy or error, got '", spec.accuracy.kind, "'"));
  }
  if (!spec.accuracy_file.empty() && !spec.target_column.empty()) {
    return absl::InvalidArgumentError("give --accuracy or --target-column, not both");
  }
  return o;
}

}  // namespace htsr::cli
