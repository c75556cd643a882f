// htsr compare FILE... : trends of model-level metrics against accuracy within series.
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/trend_flags.h"
#include "model/diagnostics.h"
#include "trends/trend_analysis.h"
#include "trends/trend_inputs.h"
#include "trends/trend_writer.h"

namespace htsr::cli {

namespace {

ArgParser MakeParser() {
  ArgParser p(
      "compare", "FILE... [options]",
      "Regresses accuracy (or error) on model-level metrics within each model series,\n"
      "as in Martin, Peng & Mahoney (2021), Table 1: least squares with RMSE, R^2 and\n"
      "Kendall tau, models that disagree with their series' trend, layers whose alpha is\n"
      "outside [2, 6], and scale collapse between comparable models. FILE is htsr analyze\n"
      "output (--format json|csv), an htsr scan database (.sqlite/.db; its manifest's extra\n"
      "columns model, series, accuracy are used), a weightwatcher per-layer CSV or summary\n"
      "dict (get_summary() as text), or a CSV of one row per model (a model column and\n"
      "metric columns). Accuracies come from --accuracy FILE, --target-column, or else a\n"
      "column named accuracy/top1_acc/acc/top1_err/error in the inputs. Series come from a\n"
      "series column of the accuracy file or of the inputs.\n\n"
      "Exit status: 0 ok; 2 usage error or unreadable input.");
  cli::AddTrendFlags(p);
  p.AddFlag({"format", "table|csv|json", "output format", "table"});
  p.AddFlag({"out", "FILE", "write the output to FILE instead of stdout", ""});
  return p;
}

}  // namespace

int RunCompare(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  const ArgParser parser = MakeParser();
  auto args = parser.Parse(argv);
  if (!args.ok()) {
    err << "htsr compare: " << args.status().message() << "\n";
    return kExitUsage;
  }
  if (args->Has("help")) {
    out << parser.Help();
    return kExitOk;
  }
  if (args->positionals().empty()) {
    err << "htsr compare: no FILE given (see 'htsr compare --help')\n";
    return kExitUsage;
  }
  const std::string format = args->GetOr("format", "table");
  if (format != "table" && format != "csv" && format != "json") {
    err << "htsr compare: --format is table, csv or json, got '" << format << "'\n";
    return kExitUsage;
  }
  trends::TargetSpec spec;
  auto options = cli::TrendOptionsFromArgs(*args, spec);
  if (!options.ok()) {
    err << "htsr compare: " << options.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<model::ModelRecord> records;
  for (const std::string& path : args->positionals()) {
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
  for (const std::string& n : notes) err << "htsr compare: note: " << n << "\n";
  if (records.empty()) {
    err << "htsr compare: no model left to compare\n";
    return kExitUsage;
  }
  const std::vector<trends::SeriesTrend> result = trends::AnalyzeTrends(records, *options);
  const auto collapse = model::FindScaleCollapse(records, options->target_is_error);

  std::ofstream file;
  std::ostream* sink = &out;
  if (auto path = args->Get("out")) {
    file.open(*path, std::ios::out | std::ios::trunc);
    if (!file) {
      err << "htsr compare: cannot write --out " << *path << "\n";
      return kExitUsage;
    }
    sink = &file;
  }
  if (format == "csv") {
    trends::WriteTrendCsv(result, *sink);
  } else if (format == "json") {
    trends::WriteTrendJson(result, *options, collapse, *sink);
  } else {
    trends::WriteTrendTable(result, *options, collapse, *sink);
  }
  sink->flush();
  if (!*sink) {
    err << "htsr compare: writing the output failed\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace htsr::cli
