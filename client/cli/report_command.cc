// htsr report MODEL|RESULTS... : a self-contained HTML report, or the charts as SVG files.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "analysis/model_analysis.h"
#include "cli/analysis_flags.h"
#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "cli/trend_flags.h"
#include "report/html_report.h"
#include "results/layer_rows.h"
#include "results/results_file.h"
#include "trends/trend_inputs.h"

namespace htsr::cli {
namespace {

ArgParser MakeParser() {
  ArgParser p(
      "report", "MODEL|RESULTS... --out report.html [options]",
      "Writes one self-contained HTML file (inline SVG, no network): each model's summary\n"
      "and diagnostics in plain words, a sortable per-layer table, correlation flow (alpha\n"
      "by depth with the 2..6 band), log spectral norm and alpha_weighted by depth, and the\n"
      "ESD of chosen layers (default: the worst ones) with the fitted power law and the MP\n"
      "bulk (--mp-fit). Several models are overlaid; with --accuracy the trend table and\n"
      "scatter plots of 'htsr compare' are added. MODEL is a checkpoint (analysed here, as\n"
      "by 'htsr analyze'); RESULTS is a .json/.csv/.txt result file (no spectra: those are\n"
      "not stored in results). --format svg writes each chart as DIR/NAME.svg instead.\n\n"
      "Exit status: 0 ok; 1 some layers failed; 2 usage error or unreadable input.");
  p.AddFlag({"out", "FILE|DIR", "the HTML file, or the directory for --format svg",
             "report.html, or report_svg/"});
  p.AddFlag({"format", "html|svg", "one HTML report, or one SVG file per chart", "html"});
  p.AddFlag({"title", "TEXT", "the report's title", "htsr report"});
  p.AddFlag({"esd-layers", "LIST", "layer ids or names whose ESD to draw (comma separated)",
             "the worst"});
  p.AddFlag({"esd-count", "N", "how many of the worst layers per model get an ESD", "4"});
  p.AddFlag({"quiet", "", "no progress bar and no notes on stderr", ""});
  cli::AddTrendFlags(p);
  AddAnalysisFlags(p);
  return p;
}

}  // namespace

int RunReport(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  const ArgParser parser = MakeParser();
  auto args = parser.Parse(argv);
  if (!args.ok()) {
    err << "htsr report: " << args.status().message() << "\n";
    return kExitUsage;
  }
  if (args->Has("help")) {
    out << parser.Help();
    return kExitOk;
  }
  if (args->positionals().empty()) {
    err << "htsr report: no MODEL or RESULTS given (see 'htsr report --help')\n";
    return kExitUsage;
  }
  const std::string format = args->GetOr("format", "html");
  if (format != "html" && format != "svg") {
    err << "htsr report: --format is html or svg, got '" << format << "'\n";
    return kExitUsage;
  }
  report::ReportOptions ropts;
  ropts.title = args->GetOr("title", "htsr report");
  ropts.esd_layers = trends::SplitList(args->GetOr("esd-layers", ""));
  auto esd_count = args->GetInt("esd-count", 4, 0, 1000);
  trends::TargetSpec spec;
  auto topts = cli::TrendOptionsFromArgs(*args, spec);
  auto config = EngineConfigFromArgs(*args);
  auto filter = LayerFilterFromArgs(*args);
  for (const absl::Status& s :
       {esd_count.status(), topts.status(), config.status(), filter.status()}) {
    if (!s.ok()) {
      err << "htsr report: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  ropts.esd_count = static_cast<size_t>(*esd_count);
  const bool quiet = args->Has("quiet");

  report::ReportData data;
  bool failed_layers = false;
  std::unique_ptr<Engine> engine;
  for (const std::string& path : args->positionals()) {
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
  // legends ambiguous: qualify later ones.
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
    const std::string dir = args->GetOr("out", "report_svg");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      err << "htsr report: cannot create " << dir << ": " << ec.message() << "\n";
      return kExitUsage;
    }
    for (const report::ReportFigure& f : report::BuildFigures(data, ropts)) {
      const std::string path = (std::filesystem::path(dir) / (f.spec.id + ".svg")).string();
      std::ofstream file(path, std::ios::out | std::ios::trunc);
      file << report::RenderSvg(f.spec);
      file.flush();
      if (!file) {
        err << "htsr report: cannot write " << path << "\n";
        return kExitUsage;
      }
      if (!quiet) out << path << "\n";
    }
  } else {
    const std::string path = args->GetOr("out", "report.html");
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
