// htsr analyze PATH... : per-layer metrics and the model summary.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/model_analysis.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "cli/server_flags.h"
#include "htsr/status_macros.h"
#include "output/csv_writer.h"
#include "output/esd_files.h"
#include "output/json_writer.h"
#include "output/summary_fields.h"
#include "output/table_writer.h"
#include "report/esd_plot_files.h"
#include "scan/scan_inputs.h"

namespace htsr::cli {
namespace {

// --save-esd and --plot: files beside the table, one set per model.
absl::Status WriteLayerFiles(const std::optional<std::string>& esd_dir,
                             const std::optional<std::string>& plot_dir,
                             const model::ModelReport& report, const AnalysisOptions& options) {
  if (esd_dir) HTSR_RETURN_IF_ERROR(output::WriteEsdFiles(*esd_dir, report, options));
  if (plot_dir) HTSR_RETURN_IF_ERROR(report::WriteEsdPlotFiles(*plot_dir, report));
  return absl::OkStatus();
}

}  // namespace

int RunAnalyze(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& err = inv.err;
  auto config = EngineConfigFromArgs(args);
  auto filter = LayerFilterFromArgs(args);
  for (const absl::Status& s : {config.status(), filter.status()}) {
    if (!s.ok()) {
      err << "htsr analyze: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  // Spectra and plots as files need each layer's eigenvalues.
  const std::optional<std::string> esd_dir = args.Get("save-esd");
  const std::optional<std::string> plot_dir = args.Get("plot");
  if (esd_dir || plot_dir) config->keep_evals = true;
  auto pool = cli::RemotePoolOptionsFromArgs(args);
  if (!pool.ok()) {
    err << "htsr analyze: " << pool.status().message() << "\n";
    return kExitUsage;
  }
  pool->keep_evals = config->keep_evals;
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
  if (const std::optional<std::string> base = args.Get("base")) {
    auto with_base = analysis::MakeBaseCheckpointAnalyzer(
        *pool, config->options, *filter, ProgressBar::Factory(!quiet), engine.get());
    if (!with_base.ok()) {
      err << "htsr analyze: " << with_base.status().message() << "\n";
      return kExitUsage;
    }
    *analyze = [base = *base, with_base = *std::move(with_base)](const std::string& path) {
      return with_base(path, base);
    };
  }

  std::vector<model::ModelReport> reports;
  bool unreadable = false, failed_layers = false;
  // A folder of checkpoints is every model in it (scan's rule); one summary each.
  absl::StatusOr<std::vector<std::string>> paths = scan::ExpandModelPaths(args.positionals());
  if (!paths.ok()) return inv.UsageError(paths.status().message());
  for (const std::string& path : *paths) {
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
    if (absl::Status s = WriteLayerFiles(esd_dir, plot_dir, *report, config->options); !s.ok()) {
      err << "htsr analyze: " << s.message() << "\n";
      unreadable = true;
    }
    reports.push_back(std::move(*report));
  }

  const std::optional<std::string> out_path = args.Get("out");
  if (out_path && unreadable) {
    // --out is written only for a complete answer: a header-only or partial file would be
    // taken for one. The previous file, if any, is left as it was.
    err << "htsr analyze: --out " << *out_path << " not written: an input could not be read\n";
    return kExitUsage;
  }
  const int written = inv.WriteOutput([&](std::ostream& sink) {
    if (format == "csv") {
      output::WriteCsv(reports, sink);
    } else if (format == "json") {
      output::WriteJson(reports, sink);
    } else {
      for (size_t i = 0; i < reports.size(); ++i) {
        if (i) sink << "\n";
        output::WriteTable(reports[i], sink);
      }
    }
    return absl::OkStatus();
  });
  if (written != kExitOk) return written;
  if (unreadable) return kExitUsage;
  return failed_layers ? kExitLayersFailed : kExitOk;
}

}  // namespace htsr::cli
