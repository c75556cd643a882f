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
#include "cli/commands.h"
#include "cli/server_flags.h"
#include "output/json_writer.h"
#include "output/summary_fields.h"
#include "policy/policy.h"
#include "policy/policy_eval.h"

namespace htsr::cli {
namespace {

std::string FlagName(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

ArgParser MakeParser() {
  ArgParser p("check", "MODEL... [--policy FILE] [--max-alpha X ...] [options]",
              "Analyses each MODEL (embedded, or on --server) and checks it against a policy:\n"
              "rules from --policy FILE (JSON, or YAML 'key: value' lines and lists) and from\n"
              "the rule flags below, which override the file. For registry upload hooks and CI\n"
              "gates (see deploy/hooks/).\n\n"
              "Exit status: 0 every model passes; 1 some rule is violated (one line per\n"
              "violated rule on stdout); 2 usage error or a model that cannot be read.");
  p.AddFlag({"policy", "FILE", "policy file (.json, .yaml)", ""});
  p.AddFlag({"max-alpha", "X", "every analysed layer's alpha <= X (6: under-trained above)", ""});
  p.AddFlag({"min-alpha", "X", "every analysed layer's alpha >= X (2: over-trained below)", ""});
  p.AddFlag({"max-log-spectral-norm", "X", "every analysed layer's log10 lambda_max <= X", ""});
  p.AddFlag({"max-failed-layers", "N", "layers the engine could not analyse", ""});
  p.AddFlag({"max-under-trained-layers", "N", "layers with alpha > 6", ""});
  p.AddFlag({"max-over-trained-layers", "N", "layers with alpha < 2", ""});
  p.AddFlag({"min-analyzed-layers", "N", "at least N layers analysed (guards empty models)", ""});
  p.AddFlag({"max-mean-alpha", "X", "mean alpha over analysed layers <= X", ""});
  p.AddFlag({"min-mean-alpha", "X", "mean alpha over analysed layers >= X", ""});
  p.AddFlag({"max-mean-log-spectral-norm", "X", "mean log10 lambda_max <= X", ""});
  p.AddFlag({"ignore-layers", "PATTERNS",
             "comma list of layer-name globs or substrings exempt from the rules", ""});
  p.AddFlag({"format", "text|json", "output format", "text"});
  p.AddFlag({"quiet", "", "no notes on stderr", ""});
  cli::AddRemoteFlags(p);
  AddAnalysisFlags(p);
  return p;
}

std::string ModelJson(const model::ModelReport& report,
                      const std::vector<policy::Violation>& violations) {
  std::string s =
      absl::StrCat("{\"path\": ", output::JsonString(report.path),
                   ", \"pass\": ", violations.empty() ? "true" : "false",
                   ", \"backend\": ", output::JsonString(report.backend), ", \"summary\": {");
  bool first = true;
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

int RunCheck(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  const ArgParser parser = MakeParser();
  auto args = parser.Parse(argv);
  if (!args.ok()) {
    err << "htsr check: " << args.status().message() << "\n";
    return kExitUsage;
  }
  if (args->Has("help")) {
    out << parser.Help();
    return kExitOk;
  }
  auto usage = [&err](const absl::Status& s) {
    err << "htsr check: " << s.message() << "\n";
    return kExitUsage;
  };
  if (args->positionals().empty()) {
    err << "htsr check: no MODEL given (see 'htsr check --help')\n";
    return kExitUsage;
  }
  const std::string format = args->GetOr("format", "text");
  if (format != "text" && format != "json") {
    err << "htsr check: --format is text or json, got '" << format << "'\n";
    return kExitUsage;
  }

  policy::Policy pol;
  bool has_rules = false;
  if (auto f = args->Get("policy")) {
    auto p = policy::ReadPolicyFile(*f);
    if (!p.ok()) return usage(p.status());
    pol = *std::move(p);
    has_rules = true;
  }
  for (const std::string& key : policy::PolicyKeys()) {
    auto v = args->Get(FlagName(key));
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

  auto pool = cli::RemotePoolOptionsFromArgs(*args);
  if (!pool.ok()) return usage(pool.status());
  auto config = EngineConfigFromArgs(*args);
  if (!config.ok()) return usage(config.status());
  auto filter = LayerFilterFromArgs(*args);
  if (!filter.ok()) return usage(filter.status());
  const bool quiet = args->Has("quiet");

  std::unique_ptr<Engine> engine;
  std::string note;
  auto made =
      analysis::MakeCheckpointAnalyzer(*pool, *config, *filter, /*progress=*/{}, &engine, &note);
  if (!made.ok()) return usage(made.status());
  const analysis::CheckpointAnalyzer analyzer = *std::move(made);
  if (!quiet && !note.empty()) err << "htsr: " << note << "\n";

  bool any_violation = false, unreadable = false;
  std::vector<std::string> json_models;
  for (const std::string& path : args->positionals()) {
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
      out << absl::StrFormat("PASS %s: %d layers analysed, mean alpha %.3f\n", path,
                             report.summary.num_analyzed, report.summary.alpha);
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
