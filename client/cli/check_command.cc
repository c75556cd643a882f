// htsr check MODEL... : a quality gate for registries and CI (exit 1 when a rule breaks).
#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/remote_pool.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/server_flags.h"
#include "output/json_writer.h"
#include "output/summary_fields.h"
#include "policy/policy.h"
#include "policy/policy_eval.h"
#include "scan/scan_inputs.h"

namespace htsr::cli {
namespace {

std::string FlagName(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

std::string ModelJson(const model::ModelReport& report,
                      const std::vector<policy::Violation>& violations) {
  std::string s =
      absl::StrCat("{\"path\": ", output::JsonString(report.path),
                   ", \"pass\": ", violations.empty() ? "true" : "false",
                   ", \"backend\": ", output::JsonString(report.backend), ", \"summary\": {",
                   "\"status\": ", output::JsonString(output::SummaryStatus(report.summary)));
  bool first = false;
  for (const output::SummaryField& f : output::SummaryFields(report.summary)) {
    absl::StrAppend(
        &s, first ? "" : ", ", output::JsonString(std::string(f.name)), ": ",
        f.is_count ? absl::StrCat(static_cast<int64_t>(f.value)) : output::JsonNumber(f.value));
    first = false;
  }
  absl::StrAppend(&s, "}, \"violations\": [");
  for (size_t i = 0; i < violations.size(); ++i) {
    const policy::Violation& v = violations[i];
    absl::StrAppend(&s, i ? ", " : "", "{\"rule\": ", output::JsonString(v.rule),
                    ", \"limit\": ", output::JsonNumber(v.limit),
                    ", \"value\": ", output::JsonNumber(v.value),
                    ", \"message\": ", output::JsonString(v.message), "}");
  }
  return s + "]}";
}

}  // namespace

int RunCheck(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& out = inv.out;
  std::ostream& err = inv.err;
  auto usage = [&inv](const absl::Status& s) { return inv.UsageError(s.message()); };

  policy::Policy pol;
  bool has_rules = false;
  if (auto f = args.Get("policy")) {
    auto p = policy::ReadPolicyFile(*f);
    if (!p.ok()) return usage(p.status());
    pol = *std::move(p);
    has_rules = true;
  }
  for (const std::string& key : policy::PolicyKeys()) {
    auto v = args.Get(FlagName(key));
    if (!v) continue;
    has_rules = true;
    absl::Status s;
    if (key == "ignore_layers") {
      std::vector<std::string> items = absl::StrSplit(*v, ',', absl::SkipWhitespace());
      s = policy::SetPolicyValue(pol, key, items, true);
    } else {
      s = policy::SetPolicyValue(pol, key, {*v}, false);
    }
    if (!s.ok())
      return usage(
          absl::InvalidArgumentError(absl::StrCat("--", FlagName(key), ": ", s.message())));
  }
  if (!has_rules) {
    err << "htsr check: no rules: give --policy FILE or rule flags such as --max-alpha 6\n";
    return kExitUsage;
  }

  auto pool = cli::RemotePoolOptionsFromArgs(args);
  if (!pool.ok()) return usage(pool.status());
  auto config = EngineConfigFromArgs(args);
  if (!config.ok()) return usage(config.status());
  auto filter = LayerFilterFromArgs(args);
  if (!filter.ok()) return usage(filter.status());
  const bool quiet = args.Has("quiet");

  std::unique_ptr<Engine> engine;
  std::string note;
  auto made =
      analysis::MakeCheckpointAnalyzer(*pool, *config, *filter, /*progress=*/{}, &engine, &note);
  if (!made.ok()) return usage(made.status());
  const analysis::CheckpointAnalyzer analyzer = *std::move(made);
  if (!quiet && !note.empty()) err << "htsr: " << note << "\n";

  bool any_violation = false, unreadable = false;
  std::vector<std::string> json_models;
  // A folder of checkpoints is every model in it (scan's rule); one summary each.
  absl::StatusOr<std::vector<std::string>> paths = scan::ExpandModelPaths(args.positionals());
  if (!paths.ok()) return inv.UsageError(paths.status().message());
  for (const std::string& path : *paths) {
    auto analysed = analyzer(path);
    if (!analysed.ok()) {
      err << "htsr check: " << analysed.status().message() << "\n";
      unreadable = true;
      if (format == "json") {
        json_models.push_back(
            absl::StrCat("{\"path\": ", output::JsonString(path), ", \"pass\": false, \"error\": ",
                         output::JsonString(std::string(analysed.status().message())), "}"));
      }
      continue;
    }
    const model::ModelReport& report = analysed->report;
    const std::vector<policy::Violation> violations = policy::Evaluate(pol, report);
    any_violation |= !violations.empty();
    if (format == "json") {
      json_models.push_back(ModelJson(report, violations));
      continue;
    }
    if (violations.empty()) {
      out << absl::StrFormat(
          "PASS %s: %d layers analysed, mean alpha %s\n", path, report.summary.num_analyzed,
          output::HasSummaryValues(report.summary)
              ? absl::StrFormat("%.3f", report.summary.alpha)
              : absl::StrCat("- (", output::EmptySummaryReason(report.summary), ")"));
    }
    for (const policy::Violation& v : violations)
      out << "FAIL " << path << ": " << v.message << "\n";
  }
  if (format == "json") {
    out << "{\"pass\": " << (any_violation || unreadable ? "false" : "true") << ", \"models\": [";
    for (size_t i = 0; i < json_models.size(); ++i) out << (i ? ",\n  " : "\n  ") << json_models[i];
    out << "\n]}\n";
  }
  out.flush();
  if (unreadable) return kExitUsage;
  return any_violation ? kExitLayersFailed : kExitOk;
}

}  // namespace htsr::cli
