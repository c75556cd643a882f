#include "trends/trend_writer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "htsr/base/text_escape.h"
#include "output/json_writer.h"
#include "output/result_columns.h"

namespace htsr::trends {
namespace {

enum class Style { kGeneral, kThree, kFixed3, kFixed2 };

std::string Cell(double v, Style style = Style::kGeneral) {
  if (!std::isfinite(v)) return "-";
  switch (style) {
    // '#': trailing zeros kept, so a column reads 3.00 beside 2.55, never 3 beside 2.55.
    case Style::kGeneral:
      return absl::StrFormat("%#.4g", v);
    case Style::kThree:
      return absl::StrFormat("%#.3g", v);
    case Style::kFixed3:
      return absl::StrFormat("%.3f", v);
    case Style::kFixed2:
      return absl::StrFormat("%.2f", v);
  }
  return "";
}

}  // namespace

void WriteTrendTable(const std::vector<SeriesTrend>& trends, const TrendOptions& o,
                     const std::vector<model::ScaleCollapse>& collapse, std::ostream& out) {
  for (size_t si = 0; si < trends.size(); ++si) {
    const SeriesTrend& s = trends[si];
    if (si) out << "\n";
    size_t n = 0;
    for (const auto& m : s.metrics) n = std::max(n, m.models.size());
    out << absl::StrFormat(
        "series %s: %d models with a value of %s (%s); Kendall tau against accuracy\n",
        s.series.empty() ? "(all)" : s.series, n, o.target_name,
        o.target_is_error ? "an error" : "an accuracy");
    out << absl::StrFormat("  %-20s %4s %10s %10s %9s %7s %7s  %s\n", "metric", "n", "slope",
                           "intercept", "RMSE", "R^2", "tau", "off the trend");
    for (const MetricTrend& m : s.metrics) {
      if (!m.fit) {
        out << absl::StrFormat("  %-20s  not fitted: %s\n", m.metric, m.error);
        continue;
      }
      out << absl::StrFormat("  %-20s %4d %10s %10s %9s %7s %7s  %s\n", m.metric, m.fit->n,
                             Cell(m.fit->slope), Cell(m.fit->intercept),
                             Cell(m.fit->rmse, Style::kThree), Cell(m.fit->r2, Style::kFixed3),
                             Cell(m.kendall_tau, Style::kFixed2), absl::StrJoin(m.outliers, ", "));
      if (!m.error.empty()) out << "      note: " << m.error << "\n";
    }
    if (!s.models_without_target.empty()) {
      out << "  without a " << o.target_name
          << " value: " << absl::StrJoin(s.models_without_target, ", ") << "\n";
    }
    if (!s.layers_outside.empty()) {
      out << absl::StrFormat("  %d layers with alpha outside [%g, %g]:", s.layers_outside.size(),
                             o.alpha_low, o.alpha_high);
      const size_t shown = std::min<size_t>(s.layers_outside.size(), 10);
      for (size_t i = 0; i < shown; ++i) {
        const LayerFlag& f = s.layers_outside[i];
        const bool named = f.layer != absl::StrCat("layer ", f.layer_id);
        out << absl::StrFormat("%s %s layer %d%s%s (%.2f)", i ? "," : "", f.model, f.layer_id,
                               named ? " " : "", named ? f.layer : "", f.alpha);
      }
      if (shown < s.layers_outside.size()) out << ", ...";
      out << "\n";
    }
  }
  if (trends.size() > 1) {
    const AcrossSeries a = SummarizeAcrossSeries(trends, o);
    out << absl::StrFormat(
        "\nacross %d series: medians of the per-series fits; 'first' = series in which the "
        "metric fits best (highest R^2)\n",
        a.num_series);
    out << absl::StrFormat("  %-20s %6s %9s %7s %7s %6s\n", "metric", "series", "RMSE", "R^2",
                           "tau", "first");
    for (const AcrossSeriesMetric& m : a.metrics) {
      out << absl::StrFormat("  %-20s %6d %9s %7s %7s %6d\n", m.metric, m.series_fitted,
                             Cell(m.median_rmse, Style::kThree), Cell(m.median_r2, Style::kFixed3),
                             Cell(m.median_tau, Style::kFixed2), m.ranks_first);
    }
  }
  for (const model::ScaleCollapse& c : collapse)
    out << "\n" << model::DescribeScaleCollapse(c) << "\n";
}

void WriteTrendCsv(const std::vector<SeriesTrend>& trends, std::ostream& out) {
  out << "series,metric,n,slope,intercept,rmse,r2,kendall_tau,outliers,error\n";
  for (const SeriesTrend& s : trends) {
    for (const MetricTrend& m : s.metrics) {
      out << CsvField(s.series) << "," << CsvField(m.metric) << ",";
      if (m.fit) {
        out << m.fit->n << "," << output::FormatDouble(m.fit->slope) << ","
            << output::FormatDouble(m.fit->intercept) << "," << output::FormatDouble(m.fit->rmse)
            << "," << output::FormatDouble(m.fit->r2) << "," << output::FormatDouble(m.kendall_tau)
            << ",";
      } else {
        out << m.models.size() << ",,,,,,";
      }
      out << CsvField(absl::StrJoin(m.outliers, ";")) << "," << CsvField(m.error) << "\n";
    }
  }
}

void WriteTrendJson(const std::vector<SeriesTrend>& trends, const TrendOptions& o,
                    const std::vector<model::ScaleCollapse>& collapse, std::ostream& out) {
  using output::JsonNumber;
  using output::JsonString;
  auto strings = [](const std::vector<std::string>& v) {
    std::vector<std::string> q;
    for (const auto& s : v) q.push_back(JsonString(s));
    return absl::StrCat("[", absl::StrJoin(q, ", "), "]");
  };
  out << "{\"target\": " << JsonString(o.target_name)
      << ", \"target_is_error\": " << (o.target_is_error ? "true" : "false") << ", \"series\": [";
  for (size_t si = 0; si < trends.size(); ++si) {
    const SeriesTrend& s = trends[si];
    out << (si ? ",\n" : "\n") << "  {\"series\": " << JsonString(s.series) << ", \"metrics\": [";
    for (size_t mi = 0; mi < s.metrics.size(); ++mi) {
      const MetricTrend& m = s.metrics[mi];
      out << (mi ? ",\n" : "\n") << "    {\"metric\": " << JsonString(m.metric)
          << ", \"models\": " << strings(m.models);
      if (m.fit) {
        out << ", \"n\": " << m.fit->n << ", \"slope\": " << JsonNumber(m.fit->slope)
            << ", \"intercept\": " << JsonNumber(m.fit->intercept)
            << ", \"rmse\": " << JsonNumber(m.fit->rmse) << ", \"r2\": " << JsonNumber(m.fit->r2)
            << ", \"kendall_tau\": " << JsonNumber(m.kendall_tau);
      }
      out << ", \"outliers\": " << strings(m.outliers) << ", \"error\": " << JsonString(m.error)
          << "}";
    }
    out << "],\n   \"layers_outside_alpha_band\": [";
    for (size_t i = 0; i < s.layers_outside.size(); ++i) {
      const LayerFlag& f = s.layers_outside[i];
      out << (i ? ", " : "") << "{\"model\": " << JsonString(f.model)
          << ", \"layer_id\": " << f.layer_id << ", \"name\": " << JsonString(f.layer)
          << ", \"alpha\": " << JsonNumber(f.alpha) << "}";
    }
    out << "],\n   \"models_without_target\": " << strings(s.models_without_target) << "}";
  }
  const AcrossSeries a = SummarizeAcrossSeries(trends, o);
  out << "\n], \"across_series\": {\"num_series\": " << a.num_series << ", \"metrics\": [";
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    const AcrossSeriesMetric& m = a.metrics[i];
    out << (i ? ", " : "") << "{\"metric\": " << JsonString(m.metric)
        << ", \"series_fitted\": " << m.series_fitted
        << ", \"median_rmse\": " << JsonNumber(m.median_rmse)
        << ", \"median_r2\": " << JsonNumber(m.median_r2)
        << ", \"median_kendall_tau\": " << JsonNumber(m.median_tau)
        << ", \"ranks_first\": " << m.ranks_first << "}";
  }
  out << "]}, \"scale_collapse\": [";
  for (size_t i = 0; i < collapse.size(); ++i) {
    const model::ScaleCollapse& c = collapse[i];
    out << (i ? ", " : "") << "{\"model\": " << JsonString(c.model)
        << ", \"reference\": " << JsonString(c.reference)
        << ", \"series\": " << JsonString(c.series)
        << ", \"d_log_norm\": " << JsonNumber(c.d_log_norm)
        << ", \"d_log_spectral_norm\": " << JsonNumber(c.d_log_spectral_norm)
        << ", \"d_alpha\": " << JsonNumber(c.d_alpha) << "}";
  }
  out << "]}\n";
}

}  // namespace htsr::trends
