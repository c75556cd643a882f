#include "trends/trend_analysis.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace htsr::trends {

const std::vector<std::string>& DefaultTrendMetrics() {
  static const std::vector<std::string>* m = new std::vector<std::string>{
      "log_norm", "log_spectral_norm", "alpha_weighted", "log_alpha_norm", "alpha"};
  return *m;
}

namespace {

SeriesTrend AnalyzeOne(const std::string& series,
                       const std::vector<const model::ModelRecord*>& models,
                       const TrendOptions& o) {
  SeriesTrend st;
  st.series = series;
  for (const model::ModelRecord* m : models) {
    if (!m->target) st.models_without_target.push_back(m->name);
    if (!m->has_layers) continue;
    for (const LayerResult& l : m->report.layers) {
      if (l.status != LayerStatus::kSuccess) continue;
      if (l.alpha < o.alpha_low || l.alpha > o.alpha_high) {
        st.layers_outside.push_back({m->name, l.plan.layer_id, l.plan.name, l.alpha});
      }
    }
  }
  for (const std::string& metric : o.metrics) {
    MetricTrend mt;
    mt.metric = metric;
    std::vector<std::string> lacking;
    for (const model::ModelRecord* m : models) {
      if (!m->target) continue;
      const std::optional<double> v = m->Metric(metric);
      if (!v || !std::isfinite(*v)) {
        lacking.push_back(m->name);
        continue;
      }
      mt.models.push_back(m->name);
      mt.x.push_back(*v);
      mt.y.push_back(*m->target);
    }
    auto fit = FitLinear(mt.x, mt.y);
    if (fit.ok()) {
      mt.fit = *std::move(fit);
      const double tau = KendallTau(mt.x, mt.y);
      mt.kendall_tau = o.target_is_error ? -tau : tau;
      for (size_t i : ResidualOutliers(*mt.fit, o.outlier_threshold))
        mt.outliers.push_back(mt.models[i]);
    } else {
      mt.error = std::string(fit.status().message());
      mt.kendall_tau = std::nan("");
    }
    if (!lacking.empty()) {
      absl::StrAppend(&mt.error, mt.error.empty() ? "" : "; ", lacking.size(),
                      " model(s) without this metric");
    }
    st.metrics.push_back(std::move(mt));
  }
  return st;
}

}  // namespace

std::vector<SeriesTrend> AnalyzeTrends(const std::vector<model::ModelRecord>& records,
                                       const TrendOptions& options) {
  std::vector<SeriesTrend> out;
  for (const model::SeriesGroup& g : model::GroupBySeries(records)) {
    // A group where no model has a target has no trend to fit (callers list those models).
    bool any_target = false;
    for (const model::ModelRecord* r : g.records) any_target |= r->target.has_value();
    if (any_target) out.push_back(AnalyzeOne(g.series, g.records, options));
  }
  return out;
}

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

AcrossSeries SummarizeAcrossSeries(const std::vector<SeriesTrend>& trends,
                                   const TrendOptions& options) {
  AcrossSeries out;
  for (const SeriesTrend& s : trends) {
    bool any = false;
    for (const MetricTrend& m : s.metrics) any |= m.fit.has_value();
    out.num_series += any ? 1 : 0;
  }
  for (const std::string& metric : options.metrics) {
    AcrossSeriesMetric a;
    a.metric = metric;
    std::vector<double> rmse, r2, tau;
    for (const SeriesTrend& s : trends) {
      double best = -INFINITY;
      for (const MetricTrend& m : s.metrics) {
        if (m.fit) best = std::max(best, m.fit->r2);
      }
      for (const MetricTrend& m : s.metrics) {
        if (m.metric != metric || !m.fit) continue;
        ++a.series_fitted;
        rmse.push_back(m.fit->rmse);
        r2.push_back(m.fit->r2);
        if (std::isfinite(m.kendall_tau)) tau.push_back(m.kendall_tau);
        if (m.fit->r2 >= best - 1e-12) ++a.ranks_first;
      }
    }
    a.median_rmse = Median(rmse);
    a.median_r2 = Median(r2);
    a.median_tau = Median(tau);
    out.metrics.push_back(a);
  }
  return out;
}

}  // namespace htsr::trends
