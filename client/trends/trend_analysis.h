// Trends within model series (the paper's Table 1 and its "good-better-best" analysis):
// per series and per model-level metric, a least-squares line of accuracy (or error) on
// the metric, its RMSE, R^2 and Kendall tau, the models off the trend, and the layers whose
// alpha leaves the [2, 6] band of well-trained layers.
#ifndef HTSR_CLIENT_TRENDS_TREND_ANALYSIS_H_
#define HTSR_CLIENT_TRENDS_TREND_ANALYSIS_H_

#include <optional>
#include <string>
#include <vector>

#include "htsr/thresholds.h"
#include "model/model_record.h"
#include "trends/regression.h"

namespace htsr::trends {

// The paper's metrics, in Table 1's order, then average alpha.
const std::vector<std::string>& DefaultTrendMetrics();

struct TrendOptions {
  std::vector<std::string> metrics = DefaultTrendMetrics();
  bool target_is_error = false;  // targets are errors (tau is reported against accuracy)
  std::string target_name = "accuracy";
  double outlier_threshold = 2.0;  // |studentized residual|
  double alpha_low = kAlphaOverTrained, alpha_high = kAlphaUnderTrained;
};

struct MetricTrend {
  std::string metric;
  std::vector<std::string> models;  // the points used, in input order
  std::vector<double> x, y;
  std::optional<LinearFit> fit;  // nullopt when it could not be fitted (see error)
  std::string error;
  // Kendall tau between the metric and *accuracy* (an error target is ranked reversed), as
  // the paper reports it: negative when a smaller metric goes with a better model.
  double kendall_tau = 0;
  std::vector<std::string> outliers;  // models whose value disagrees with the series trend
};

struct LayerFlag {
  std::string model;
  int layer_id = 0;
  std::string layer;
  double alpha = 0;
};

struct SeriesTrend {
  std::string series;  // "" when the inputs name none
  std::vector<MetricTrend> metrics;
  std::vector<LayerFlag> layers_outside;  // alpha outside [alpha_low, alpha_high]
  std::vector<std::string> models_without_target;
};

// One metric over every series that could fit it (the paper's "comparing hundreds of
// models"): medians of the per-series RMSE, R^2 and tau, and the number of series in which
// this metric fits best (highest R^2; ties count for each).
struct AcrossSeriesMetric {
  std::string metric;
  int series_fitted = 0;
  double median_rmse = 0, median_r2 = 0, median_tau = 0;
  int ranks_first = 0;
};
struct AcrossSeries {
  int num_series = 0;  // series with at least one fitted metric
  std::vector<AcrossSeriesMetric> metrics;
};
AcrossSeries SummarizeAcrossSeries(const std::vector<SeriesTrend>& trends,
                                   const TrendOptions& options);

// Groups records by series (input order of first appearance) and analyses each group.
std::vector<SeriesTrend> AnalyzeTrends(const std::vector<model::ModelRecord>& records,
                                       const TrendOptions& options);

}  // namespace htsr::trends

#endif  // HTSR_CLIENT_TRENDS_TREND_ANALYSIS_H_
