// The report's charts, built from analysed models and trend fits: correlation flow (alpha
// against depth with the [2, 6] band), norm metrics against depth, a layer's ESD with its
// power-law fit and MP bulk, and metric-vs-accuracy scatter plots with the fitted line.
#ifndef HTSR_CLIENT_REPORT_REPORT_PLOTS_H_
#define HTSR_CLIENT_REPORT_REPORT_PLOTS_H_

#include <optional>
#include <string>
#include <vector>

#include "htsr/layer.h"
#include "model/model_report.h"
#include "report/svg_plot.h"
#include "trends/trend_analysis.h"

namespace htsr::report {

struct NamedModel {
  std::string name;
  const model::ModelReport* report;
};

// One model: points coloured by layer type. Several: one coloured line per model.
PlotSpec CorrelationFlowPlot(const std::vector<NamedModel>& models);

// `column` is "log_spectral_norm" or "alpha_weighted" (any per-layer double of LayerResult
// that DepthValue knows).
PlotSpec DepthPlot(const std::vector<NamedModel>& models, const std::string& column);

// The layers most worth a look: alpha furthest outside [2, 6], then the poorest fits
// (largest KS distance D). Only analysed layers.
std::vector<const LayerResult*> WorstLayers(const std::vector<LayerResult>& layers, size_t count);

// nullopt when the layer's eigenvalues were not kept (results read from files).
std::optional<PlotSpec> EsdPlot(const std::string& model, const LayerResult& layer);

PlotSpec TrendScatter(const trends::MetricTrend& trend, const std::string& series,
                      const std::string& target_name);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_REPORT_PLOTS_H_
