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

// The same charts as small multiples for several models: one panel per model, titled with
// its name, on relative depth, with one y scale for all panels (and no legend: each panel
// is one model). Panel ids are the chart's id plus the model's.
PlotGrid CorrelationFlowPanels(const std::vector<NamedModel>& models);
PlotGrid DepthPanels(const std::vector<NamedModel>& models, const std::string& column);

// Histograms of a per-layer value ("alpha", "log_spectral_norm" = log10 lambda_max), one
// panel per model, on the same bins and y scale (fraction of the model's analysed layers),
// as Martin & Mahoney compare GPT with GPT-2. Bins span the bulk of all models' values
// (SetRobustYView's range); values beyond it are counted in the note.
PlotGrid HistogramPanels(const std::vector<NamedModel>& models, const std::string& column,
                         int bins);

// The layers most worth a look: alpha furthest outside [2, 6], then the poorest fits
// (largest KS distance D). Only analysed layers.
std::vector<const LayerResult*> WorstLayers(const std::vector<LayerResult>& layers, size_t count);

// nullopt when the layer's eigenvalues were not kept (results read from files). Bins are
// log-spaced from EsdFloor up; the eigenvalues below it are counted in the note.
std::optional<PlotSpec> EsdPlot(const std::string& model, const LayerResult& layer);

// Fit stability: D and alpha of the power-law fit against every candidate xmin (the KS
// scan, htsr::ScanCurve on the kept eigenvalues up to the fit's xmax), the chosen xmin
// marked, and in the note the xmin and alpha range over which D stays within 0.01 of its
// minimum (a flat D means alpha is poorly determined). nullopt without eigenvalues or a
// power-law fit (failed layers, --fit tpl).
std::optional<PlotGrid> FitStabilityPlot(const std::string& model, const LayerResult& layer);

PlotSpec TrendScatter(const trends::MetricTrend& trend, const std::string& series,
                      const std::string& target_name);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_REPORT_PLOTS_H_
