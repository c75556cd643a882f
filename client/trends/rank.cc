#include "trends/rank.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "htsr/base/text_escape.h"
#include "htsr/summary.h"
#include "output/json_writer.h"
#include "output/result_columns.h"
#include "output/summary_fields.h"
#include "re2/re2.h"
#include "results/layer_rows.h"
#include "trends/regression.h"

namespace htsr::trends {

const std::vector<std::string>& RankMetrics() {
  static const std::vector<std::string>* m = new std::vector<std::string>{
      "log_norm", "log_spectral_norm", "alpha", "alpha_weighted", "log_alpha_norm"};
  return *m;
}

namespace {

std::optional<int64_t> Count(const model::ModelRecord& r, const char* name) {
  if (auto v = r.Metric(name)) return static_cast<int64_t>(*v);
  return std::nullopt;
}

RankedModel MakeRow(const model::ModelRecord& r, const RankOptions& o) {
  RankedModel m;
  m.name = r.name;
  m.series = r.series;
  m.source = r.source;
  m.target = r.target;
  for (const std::string& metric : RankMetrics()) {
    auto v = r.Metric(metric);
    m.values.push_back(v && std::isfinite(*v) ? v : std::nullopt);
  }
  if (auto v = r.Metric(o.by); v && std::isfinite(*v)) m.by_value = v;
  if (r.has_layers) {
    const ModelSummary& s = r.report.summary;
    m.analysed = s.num_analyzed;
    m.skipped = s.num_skipped;
    m.failed = s.num_failed;
    const model::ModelDiagnostics d = model::DiagnoseLayers(r.report.layers, o.thresholds);
    m.under_trained = static_cast<int64_t>(d.under_trained.size());
    m.over_trained = static_cast<int64_t>(d.over_trained.size());
  } else {
    m.analysed = Count(r, "num_analyzed");
    m.skipped = Count(r, "num_skipped");
    m.failed = Count(r, "num_failed");
    m.under_trained = Count(r, "num_under_trained");
    m.over_trained = Count(r, "num_over_trained");
  }
  return m;
}

}  // namespace

RankResult RankModels(const std::vector<model::ModelRecord>& records, const RankOptions& o) {
  RankResult result;
  result.by = o.by;
  result.target_name = o.target_name;
  for (const model::SeriesGroup& g : model::GroupBySeries(records)) {
    RankedSeries s;
    s.series = g.series;
    std::vector<model::ModelRecord> members;
    for (const model::ModelRecord* r : g.records) {
      s.models.push_back(MakeRow(*r, o));
      members.push_back(*r);
    }
    // Scale collapse against the neighbours in this series (FindScaleCollapse's rules:
    // accuracies decide where known, else only one architecture is comparable).
    for (const model::ScaleCollapse& c :
         model::FindScaleCollapse(members, o.target_is_error, o.thresholds)) {
      for (RankedModel& m : s.models) {
        if (m.name == c.model) m.collapse_against.push_back(c.reference);
      }
    }
    std::stable_sort(s.models.begin(), s.models.end(),
                     [](const RankedModel& a, const RankedModel& b) {
                       if (a.by_value.has_value() != b.by_value.has_value())
                         return a.by_value.has_value();
                       return a.by_value && *a.by_value < *b.by_value;
                     });
    int rank = 0;
    std::vector<double> predicted, actual;
    for (RankedModel& m : s.models) {
      if (!m.by_value) continue;
      m.rank = ++rank;
      if (m.target) {
        predicted.push_back(-*m.by_value);
        actual.push_back(o.target_is_error ? -*m.target : *m.target);
      }
    }
    s.with_target = static_cast<int>(actual.size());
    if (actual.size() >= 2) s.kendall_tau = KendallTau(predicted, actual);
    result.series.push_back(std::move(s));
  }
  return result;
}

absl::Status SelectLayers(std::vector<model::ModelRecord>& records,
                          const std::function<bool(const LayerPlan&)>& select,
                          const std::string& spec) {
  for (model::ModelRecord& r : records) {
    if (!r.has_layers) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--layers '", spec, "': ", r.name, " (", r.source,
          ") is a model summary without per-layer rows; layers can be selected only in "
          "checkpoints, per-layer CSVs, analyze JSON/CSV and scan databases"));
    }
    std::vector<LayerResult> kept;
    for (const LayerResult& l : r.report.layers) {
      if (select(l.plan)) kept.push_back(l);
    }
    if (kept.empty() && !r.report.layers.empty()) {
      std::string listed;
      for (size_t i = 0; i < r.report.layers.size() && i < 8; ++i) {
        const LayerPlan& p = r.report.layers[i].plan;
        absl::StrAppend(&listed, i ? ", " : "", p.layer_id, " ", p.name);
      }
      if (r.report.layers.size() > 8) absl::StrAppend(&listed, ", ...");
      return absl::InvalidArgumentError(absl::StrCat("--layers '", spec, "' selects none of the ",
                                                     r.report.layers.size(), " layers of ", r.name,
                                                     " (", r.source, "; layers ", listed, ")"));
    }
    r.report.layers = std::move(kept);
    r.report.summary = Summarize(r.report.layers);
    // The summary metrics follow the selection; other per-model values (an accuracy
    // column) stay.
    std::vector<std::string> derived = {"lognorm", "logspectralnorm", "logpnorm"};
    for (const output::SummaryField& f : output::SummaryFields(r.report.summary))
      derived.emplace_back(f.name);
    std::erase_if(r.metrics, [&derived](const auto& kv) {
      return std::find(derived.begin(), derived.end(), kv.first) != derived.end();
    });
    results::AddSummaryMetrics(r.report.summary, r);
  }
  return absl::OkStatus();
}

absl::Status GroupBy(std::vector<model::ModelRecord>& records, const std::string& rule) {
  if (rule == "dir") {
    for (model::ModelRecord& r : records) {
      if (!r.series.empty()) continue;
      r.series = std::filesystem::path(r.source).parent_path().filename().string();
    }
    return absl::OkStatus();
  }
  // RE2: linear-time matching, so a pattern cannot stall the command (std::regex
  // backtracks, and GCC 12's <regex> also trips -Wmaybe-uninitialized under ASan).
  const RE2 re(rule, RE2::Quiet);
  if (!re.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--group-by '", rule, "': not 'dir' nor a regular expression: ", re.error()));
  }
  const int groups = std::min(re.NumberOfCapturingGroups(), 1);
  for (model::ModelRecord& r : records) {
    if (!r.series.empty()) continue;
    const re2::StringPiece name(r.name);
    re2::StringPiece m[2];
    if (!re.Match(name, 0, name.size(), RE2::UNANCHORED, m, groups + 1)) continue;
    // The first group when the pattern has one and it took part, else the whole match.
    const re2::StringPiece& series = groups == 1 && m[1].data() != nullptr ? m[1] : m[0];
    r.series = std::string(series.data(), series.size());
  }
  return absl::OkStatus();
}

namespace {

std::string Fixed(const std::optional<double>& v, int prec = 3) {
  return v ? absl::StrFormat("%.*f", prec, *v) : "-";
}
std::string Int(const std::optional<int64_t>& v) { return v ? absl::StrCat(*v) : "-"; }

std::string Diagnostics(const RankedModel& m) {
  std::vector<std::string> parts;
  if (m.under_trained && *m.under_trained > 0)
    parts.push_back(absl::StrCat(*m.under_trained, " under-trained"));
  if (m.over_trained && *m.over_trained > 0)
    parts.push_back(absl::StrCat(*m.over_trained, " over-trained"));
  if (!m.collapse_against.empty())
    parts.push_back(absl::StrCat("scale collapse vs ", absl::StrJoin(m.collapse_against, ", ")));
  return parts.empty() ? "-" : absl::StrJoin(parts, "; ");
}

}  // namespace

void WriteRankTable(const RankResult& r, std::ostream& out) {
  size_t name_w = 5;
  for (const RankedSeries& s : r.series) {
    for (const RankedModel& m : s.models) name_w = std::max(name_w, m.name.size());
  }
  name_w = std::min<size_t>(name_w, 40);
  const bool targets = !r.target_name.empty();
  for (size_t si = 0; si < r.series.size(); ++si) {
    const RankedSeries& s = r.series[si];
    if (si) out << "\n";
    out << absl::StrFormat("series %s: %d models, best first by %s (lower is better)\n",
                           s.series.empty() ? "(all)" : s.series, s.models.size(), r.by);
    out << absl::StrFormat("  %4s  %-*s  %8s  %8s  %7s  %8s  %8s  %4s %4s %4s", "rank",
                           static_cast<int>(name_w), "model", "log_norm", "log_spec", "alpha",
                           "alpha_w", "log_a_n", "ana", "skip", "fail");
    if (targets) out << absl::StrFormat("  %9s", r.target_name.substr(0, 9));
    out << "  diagnostics\n";
    for (const RankedModel& m : s.models) {
      out << absl::StrFormat("  %4s  %-*s  %8s  %8s  %7s  %8s  %8s  %4s %4s %4s",
                             m.rank ? absl::StrCat(m.rank) : "-", static_cast<int>(name_w), m.name,
                             Fixed(m.values[0]), Fixed(m.values[1]), Fixed(m.values[2]),
                             Fixed(m.values[3]), Fixed(m.values[4]), Int(m.analysed),
                             Int(m.skipped), Int(m.failed));
      if (targets) out << absl::StrFormat("  %9s", Fixed(m.target, 2));
      out << "  " << Diagnostics(m) << "\n";
    }
    if (s.kendall_tau) {
      out << absl::StrFormat(
          "  Kendall tau of the predicted order against %s: %.2f (%d models; 1 = exactly "
          "right)\n",
          r.target_name, *s.kendall_tau, s.with_target);
    }
  }
}

void WriteRankCsv(const RankResult& r, std::ostream& out) {
  out << "series,rank,model,source";
  for (const std::string& m : RankMetrics()) out << "," << m;
  out << ",num_analyzed,num_skipped,num_failed,num_under_trained,num_over_trained,"
         "scale_collapse_against,target,series_kendall_tau\n";
  auto num = [](const std::optional<double>& v) {
    return v ? output::FormatDouble(*v) : std::string();
  };
  auto cnt = [](const std::optional<int64_t>& v) { return v ? absl::StrCat(*v) : std::string(); };
  for (const RankedSeries& s : r.series) {
    for (const RankedModel& m : s.models) {
      out << CsvField(s.series) << "," << (m.rank ? absl::StrCat(m.rank) : "") << ","
          << CsvField(m.name) << "," << CsvField(m.source);
      for (const auto& v : m.values) out << "," << num(v);
      out << "," << cnt(m.analysed) << "," << cnt(m.skipped) << "," << cnt(m.failed) << ","
          << cnt(m.under_trained) << "," << cnt(m.over_trained) << ","
          << CsvField(absl::StrJoin(m.collapse_against, ";")) << "," << num(m.target) << ","
          << num(s.kendall_tau) << "\n";
    }
  }
}

void WriteRankJson(const RankResult& r, std::ostream& out) {
  using output::JsonNumber;
  auto num = [](const std::optional<double>& v) { return v ? JsonNumber(*v) : "null"; };
  auto cnt = [](const std::optional<int64_t>& v) { return v ? absl::StrCat(*v) : "null"; };
  out << "{\"by\": " << JsonString(r.by) << ", \"lower_is_better\": true, \"target\": "
      << (r.target_name.empty() ? "null" : JsonString(r.target_name)) << ", \"series\": [";
  for (size_t si = 0; si < r.series.size(); ++si) {
    const RankedSeries& s = r.series[si];
    out << (si ? ",\n" : "\n") << "  {\"series\": " << JsonString(s.series)
        << ", \"kendall_tau\": " << num(s.kendall_tau) << ", \"models\": [";
    for (size_t mi = 0; mi < s.models.size(); ++mi) {
      const RankedModel& m = s.models[mi];
      out << (mi ? ",\n" : "\n") << "    {\"rank\": " << (m.rank ? absl::StrCat(m.rank) : "null")
          << ", \"model\": " << JsonString(m.name) << ", \"source\": " << JsonString(m.source);
      for (size_t k = 0; k < RankMetrics().size(); ++k)
        out << ", " << JsonString(RankMetrics()[k]) << ": " << num(m.values[k]);
      out << ", \"num_analyzed\": " << cnt(m.analysed) << ", \"num_skipped\": " << cnt(m.skipped)
          << ", \"num_failed\": " << cnt(m.failed)
          << ", \"num_under_trained\": " << cnt(m.under_trained)
          << ", \"num_over_trained\": " << cnt(m.over_trained) << ", \"scale_collapse_against\": [";
      for (size_t k = 0; k < m.collapse_against.size(); ++k)
        out << (k ? ", " : "") << JsonString(m.collapse_against[k]);
      out << "], \"target\": " << num(m.target) << "}";
    }
    out << "]}";
  }
  out << "\n]}\n";
}

}  // namespace htsr::trends
