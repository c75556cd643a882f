#include "trends/trend_analysis.h"

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
  std::vector<std::string> order;
  std::vector<std::vector<const model::ModelRecord*>> groups;
  for (const model::ModelRecord& r : records) {
    size_t g = 0;
    while (g < order.size() && order[g] != r.series) ++g;
    if (g == order.size()) {
      order.push_back(r.series);
      groups.emplace_back();
    }
    groups[g].push_back(&r);
  }
  std::vector<SeriesTrend> out;
  for (size_t g = 0; g < order.size(); ++g) {
    // A group where no model has a target has no trend to fit (callers list those models).
    bool any_target = false;
    for (const model::ModelRecord* r : groups[g]) any_target |= r->target.has_value();
    if (any_target) out.push_back(AnalyzeOne(order[g], groups[g], options));
  }
  return out;
}

}  // namespace htsr::trends
