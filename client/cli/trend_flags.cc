#include "cli/trend_flags.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace htsr::cli {

void AddTrendFlags(ArgParser& p) {
  p.AddFlag({"accuracy", "FILE",
             "accuracies or errors per model: CSV with a model column and a value column (and "
             "optionally series), or bare 'model,value' lines",
             ""});
  p.AddFlag({"accuracy-column", "NAME", "the value column of --accuracy",
             "accuracy, top1_acc, acc, top1_err, error, ..."});
  p.AddFlag({"series", "NAME", "only this series of the --accuracy file", ""});
  p.AddFlag({"target", "accuracy|error", "what the values are", "error when the column says err"});
  p.AddFlag({"target-column", "NAME",
             "use this per-model column of the inputs as the target "
             "(summary CSVs that carry accuracies)",
             ""});
  p.AddFlag({"metrics", "LIST",
             "model-level metrics to regress on (comma separated; any summary key)",
             "log_norm,log_spectral_norm,alpha_weighted,log_alpha_norm,alpha"});
  p.AddFlag({"outlier-threshold", "Z", "flag models whose studentized residual exceeds Z", "2"});
}

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
