// htsr compare FILE... : trends of model-level metrics against accuracy within series.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/trend_flags.h"
#include "htsr/base/arg_parser.h"
#include "model/diagnostics.h"
#include "trends/trend_analysis.h"
#include "trends/trend_inputs.h"
#include "trends/trend_writer.h"

namespace htsr::cli {

int RunCompare(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& err = inv.err;
  trends::TargetSpec spec;
  auto options = cli::TrendOptionsFromArgs(args, spec);
  if (!options.ok()) {
    err << "htsr compare: " << options.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<model::ModelRecord> records;
  for (const std::string& path : args.positionals()) {
    if (!trends::LooksLikeResultsFile(path)) {
      err << "htsr compare: " << path
          << ": not a result file (.json, .csv, .txt); analyse checkpoints with 'htsr analyze "
             "--format json' "
             "first, or use 'htsr report'\n";
      return kExitUsage;
    }
    if (auto s = trends::AppendResults(path, records); !s.ok()) {
      err << "htsr compare: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  std::vector<std::string> notes;
  if (auto s = trends::AttachTargetsFromSpec(spec, records, *options, notes); !s.ok()) {
    err << "htsr compare: " << s.message() << "\n";
    return kExitUsage;
  }
  if (!trends::AnyTarget(records)) {
    err << "htsr compare: no model has an accuracy: give --accuracy FILE or --target-column NAME\n";
    for (const std::string& n : notes) err << "htsr compare: note: " << n << "\n";
    return kExitUsage;
  }
  for (const std::string& n : trends::LeaveOutEmptyModels(records)) notes.push_back(n);
  trends::DisambiguateNames(records);
  for (const std::string& n : notes) err << "htsr compare: note: " << n << "\n";
  if (records.empty()) {
    err << "htsr compare: no model left to compare\n";
    return kExitUsage;
  }
  const std::vector<trends::SeriesTrend> result = trends::AnalyzeTrends(records, *options);
  const auto collapse = model::FindScaleCollapse(records, options->target_is_error);

  return inv.WriteOutput([&](std::ostream& sink) {
    if (format == "csv") {
      trends::WriteTrendCsv(result, sink);
    } else if (format == "json") {
      trends::WriteTrendJson(result, *options, collapse, sink);
    } else {
      trends::WriteTrendTable(result, *options, collapse, sink);
    }
    return absl::OkStatus();
  });
}

}  // namespace htsr::cli
