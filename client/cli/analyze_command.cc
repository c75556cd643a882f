// htsr analyze PATH... : per-layer metrics and the model summary.
#include <fstream>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/model_analysis.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "cli/server_flags.h"
#include "output/csv_writer.h"
#include "output/json_writer.h"
#include "output/summary_fields.h"
#include "output/table_writer.h"

namespace htsr::cli {
int RunAnalyze(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& out = inv.out;
  std::ostream& err = inv.err;
  auto config = EngineConfigFromArgs(args);
  auto filter = LayerFilterFromArgs(args);
  for (const absl::Status& s : {config.status(), filter.status()}) {
    if (!s.ok()) {
      err << "htsr analyze: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  auto pool = cli::RemotePoolOptionsFromArgs(args);
  if (!pool.ok()) {
    err << "htsr analyze: " << pool.status().message() << "\n";
    return kExitUsage;
  }
  const bool quiet = args.Has("quiet");
  // Embedded (the default) or remote: both yield the same ModelReport for a path.
  std::unique_ptr<Engine> engine;
  std::string note;
  auto analyze = analysis::MakeCheckpointAnalyzer(*pool, *config, *filter,
                                                  ProgressBar::Factory(!quiet), &engine, &note);
  if (!analyze.ok()) {
    err << "htsr analyze: " << analyze.status().message() << "\n";
    return kExitUsage;
  }
  if (!quiet && !note.empty()) err << "htsr: " << note << "\n";

  std::vector<model::ModelReport> reports;
  bool unreadable = false, failed_layers = false;
  for (const std::string& path : args.positionals()) {
    auto analysed = (*analyze)(path);
    if (!analysed.ok()) {
      err << "htsr analyze: " << analysed.status().message() << "\n";
      unreadable = true;
      continue;
    }
    model::ModelReport* report = &analysed->report;
    if (!quiet) {
      for (const std::string& n : report->notes) err << "htsr: note: " << n << "\n";
    }
    for (const LayerResult& r : report->layers) {
      if (r.status == LayerStatus::kFailed) {
        failed_layers = true;
        err << "htsr analyze: " << path << ": layer " << r.plan.layer_id << " '"
            << r.plan.tensor_name << "' failed: " << r.reason << "\n";
      }
    }
    if (!output::HasSummaryValues(report->summary)) {
      // Not silent: an empty model has no summary values (README "Empty models").
      err << "htsr analyze: " << path << ": " << output::EmptySummaryReason(report->summary)
          << "; the model has no summary values ('htsr describe' says why)\n";
    }
    reports.push_back(std::move(*report));
  }

  std::ofstream file;
  std::ostream* sink = &out;
  if (auto path = args.Get("out")) {
    file.open(*path, std::ios::out | std::ios::trunc);
    if (!file) {
      err << "htsr analyze: cannot write --out " << *path << "\n";
      return kExitUsage;
    }
    sink = &file;
  }
  if (format == "csv") {
    output::WriteCsv(reports, *sink);
  } else if (format == "json") {
    output::WriteJson(reports, *sink);
  } else {
    for (size_t i = 0; i < reports.size(); ++i) {
      if (i) *sink << "\n";
      output::WriteTable(reports[i], *sink);
    }
  }
  sink->flush();
  if (!*sink) {
    err << "htsr analyze: writing the output failed\n";
    return kExitUsage;
  }
  if (unreadable) return kExitUsage;
  return failed_layers ? kExitLayersFailed : kExitOk;
}

}  // namespace htsr::cli
