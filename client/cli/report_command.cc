// htsr report MODEL|RESULTS... : a self-contained HTML report, or the charts as SVG files.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "analysis/model_analysis.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "cli/trend_flags.h"
#include "report/html_report.h"
#include "results/layer_rows.h"
#include "results/results_file.h"
#include "trends/trend_inputs.h"

namespace htsr::cli {
int RunReport(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& out = inv.out;
  std::ostream& err = inv.err;
  report::ReportOptions ropts;
  ropts.title = args.GetOr("title", "htsr report");
  ropts.esd_layers = trends::SplitList(args.GetOr("esd-layers", ""));
  auto esd_count = args.GetInt("esd-count", 4, 0, 1000);
  trends::TargetSpec spec;
  auto topts = cli::TrendOptionsFromArgs(args, spec);
  auto config = EngineConfigFromArgs(args);
  auto filter = LayerFilterFromArgs(args);
  for (const absl::Status& s :
       {esd_count.status(), topts.status(), config.status(), filter.status()}) {
    if (!s.ok()) {
      err << "htsr report: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  ropts.esd_count = static_cast<size_t>(*esd_count);
  const bool quiet = args.Has("quiet");

  report::ReportData data;
  bool failed_layers = false;
  std::unique_ptr<Engine> engine;
  for (const std::string& path : args.positionals()) {
    if (trends::LooksLikeResultsFile(path)) {
      if (auto s = trends::AppendResults(path, data.models); !s.ok()) {
        err << "htsr report: " << s.message() << "\n";
        return kExitUsage;
      }
      continue;
    }
    if (!engine) {
      // Spectra are what the ESD charts draw: keep them.
      config->keep_evals = true;
      auto created = Engine::Create(*config);
      if (!created.ok()) {
        err << "htsr report: " << created.status().message() << "\n";
        return kExitUsage;
      }
      engine = *std::move(created);
      if (!quiet && !engine->backend_note().empty())
        err << "htsr: " << engine->backend_note() << "\n";
    }
    analysis::ModelAnalysisOptions mopts{*filter, ProgressBar::Factory(!quiet)};
    auto analysed = analysis::AnalyzeCheckpoint(path, *engine, mopts);
    if (!analysed.ok()) {
      err << "htsr report: " << analysed.status().message() << "\n";
      return kExitUsage;
    }
    model::ModelRecord rec;
    rec.name = results::ModelNameFromPath(path);
    rec.source = path;
    rec.kind = "model";
    rec.has_layers = true;
    rec.report = *std::move(analysed);
    for (const LayerResult& l : rec.report.layers) {
      if (l.status == LayerStatus::kFailed) {
        failed_layers = true;
        if (!quiet)
          err << "htsr report: " << path << ": layer " << l.plan.layer_id << " failed: " << l.reason
              << "\n";
      }
    }
    results::AddSummaryMetrics(rec.report.summary, rec);
    data.models.push_back(std::move(rec));
  }
  // The same model name twice (two runs' "model.safetensors") would make anchors and
  // legends ambiguous: name them by their directories ("run1/model", "run2/model"), and
  // qualify any that still collide.
  trends::DisambiguateNames(data.models);
  for (size_t i = 0; i < data.models.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (data.models[j].name == data.models[i].name) {
        data.models[i].name = absl::StrCat(data.models[i].name, " (", i + 1, ")");
        break;
      }
    }
  }
  std::vector<std::string> notes;
  if (auto s = trends::AttachTargetsFromSpec(spec, data.models, *topts, notes); !s.ok()) {
    err << "htsr report: " << s.message() << "\n";
    return kExitUsage;
  }
  if (!quiet) {
    for (const std::string& n : notes) err << "htsr report: note: " << n << "\n";
  }
  if (trends::AnyTarget(data.models)) {
    data.trends = trends::AnalyzeTrends(data.models, *topts);
    data.target_name = topts->target_name;
    data.target_is_error = topts->target_is_error;
  }

  if (format == "svg") {
    const std::string dir = args.GetOr("out", "report_svg");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      err << "htsr report: cannot create " << dir << ": " << ec.message() << "\n";
      return kExitUsage;
    }
    for (const report::ReportFigure& f : report::BuildFigures(data, ropts)) {
      const std::string path = (std::filesystem::path(dir) / (f.Id() + ".svg")).string();
      std::ofstream file(path, std::ios::out | std::ios::trunc);
      file << f.Svg();
      file.flush();
      if (!file) {
        err << "htsr report: cannot write " << path << "\n";
        return kExitUsage;
      }
      if (!quiet) out << path << "\n";
    }
  } else {
    const std::string path = args.GetOr("out", "report.html");
    std::ofstream file(path, std::ios::out | std::ios::trunc);
    if (!file) {
      err << "htsr report: cannot write --out " << path << "\n";
      return kExitUsage;
    }
    report::WriteHtmlReport(data, ropts, file);
    file.flush();
    if (!file) {
      err << "htsr report: writing " << path << " failed\n";
      return kExitUsage;
    }
    if (!quiet) out << "wrote " << path << "\n";
  }
  return failed_layers ? kExitLayersFailed : kExitOk;
}

}  // namespace htsr::cli
