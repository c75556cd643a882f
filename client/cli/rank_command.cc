// htsr rank INPUT... : models ordered by predicted quality, without any data.
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/remote_pool.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "cli/server_flags.h"
#include "cli/trend_flags.h"
#include "results/layer_rows.h"
#include "results/results_file.h"
#include "trends/rank.h"
#include "trends/trend_inputs.h"

namespace htsr::cli {

int RunRank(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  std::ostream& err = inv.err;
  auto usage = [&inv](const absl::Status& s) { return inv.UsageError(s.message()); };
  trends::TargetSpec spec;
  auto topts = cli::TrendOptionsFromArgs(args, spec);
  if (!topts.ok()) return usage(topts.status());
  auto filter = LayerFilterFromArgs(args);
  if (!filter.ok()) return usage(filter.status());
  const bool quiet = args.Has("quiet");

  std::vector<model::ModelRecord> records;
  std::vector<std::string> checkpoints;
  for (const std::string& path : args.positionals()) {
    if (!trends::LooksLikeResultsFile(path)) {
      checkpoints.push_back(path);
      continue;
    }
    std::vector<model::ModelRecord> got;
    if (auto s = trends::AppendResults(path, got); !s.ok()) return usage(s);
    // --layers applies to result inputs as to checkpoints (analysed with the filter below).
    if (!filter->empty()) {
      if (auto s = trends::SelectLayers(
              got, [&f = *filter](const LayerPlan& p) { return f.Selects(p); }, filter->spec());
          !s.ok()) {
        return usage(s);
      }
    }
    for (model::ModelRecord& r : got) records.push_back(std::move(r));
  }
  if (!checkpoints.empty()) {
    auto config = EngineConfigFromArgs(args);
    if (!config.ok()) return usage(config.status());
    auto pool = cli::RemotePoolOptionsFromArgs(args);
    if (!pool.ok()) return usage(pool.status());
    std::unique_ptr<Engine> engine;
    std::string note;
    auto analyzer = analysis::MakeCheckpointAnalyzer(*pool, *config, *filter,
                                                     ProgressBar::Factory(!quiet), &engine, &note);
    if (!analyzer.ok()) return usage(analyzer.status());
    if (!quiet && !note.empty()) err << "htsr: " << note << "\n";
    for (const std::string& path : checkpoints) {
      auto analysed = (*analyzer)(path);
      if (!analysed.ok()) return usage(analysed.status());
      model::ModelRecord rec;
      rec.name = results::ModelNameFromPath(path);
      rec.source = path;
      rec.kind = "model";
      rec.has_layers = true;
      rec.report = std::move(analysed->report);
      results::AddSummaryMetrics(rec.report.summary, rec);
      records.push_back(std::move(rec));
    }
  }

  std::vector<std::string> notes;
  if (auto s = trends::AttachTargetsFromSpec(spec, records, *topts, notes); !s.ok()) {
    return usage(s);
  }
  if (!trends::AnyTarget(records)) notes.clear();  // no accuracies: nothing is missing
  for (const std::string& n : trends::LeaveOutEmptyModels(records)) notes.push_back(n);
  trends::DisambiguateNames(records);
  if (auto rule = args.Get("group-by")) {
    if (auto s = trends::GroupBy(records, *rule); !s.ok()) return usage(s);
  }
  if (!quiet || records.empty()) {
    for (const std::string& n : notes) err << "htsr rank: note: " << n << "\n";
  }
  if (records.empty()) {
    err << "htsr rank: no model to rank (every input is empty)\n";
    return kExitUsage;
  }
  trends::RankOptions ropts;
  ropts.by = args.GetOr("by", "alpha_weighted");
  ropts.target_is_error = topts->target_is_error;
  if (trends::AnyTarget(records)) ropts.target_name = topts->target_name;
  bool any_by = false;
  for (const model::ModelRecord& r : records) any_by |= r.Metric(ropts.by).has_value();
  if (!any_by) {
    return usage(absl::InvalidArgumentError(
        absl::StrCat("--by ", ropts.by,
                     ": no model has this metric (try alpha_weighted, "
                     "log_alpha_norm, alpha, log_norm, log_spectral_norm)")));
  }
  const trends::RankResult ranked = trends::RankModels(records, ropts);

  return inv.WriteOutput([&](std::ostream& sink) {
    if (inv.format == "csv") {
      trends::WriteRankCsv(ranked, sink);
    } else if (inv.format == "json") {
      trends::WriteRankJson(ranked, sink);
    } else {
      trends::WriteRankTable(ranked, sink);
    }
    return absl::OkStatus();
  });
}

}  // namespace htsr::cli
