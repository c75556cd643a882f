#include "report/report_plots.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/esd_curves.h"

namespace htsr::report {
namespace {

std::optional<double> DepthValue(const LayerResult& l, const std::string& column) {
  if (l.status != LayerStatus::kSuccess) return std::nullopt;
  if (column == "alpha") return l.alpha;
  if (column == "log_spectral_norm") return l.log_spectral_norm;
  if (column == "alpha_weighted") return l.alpha_weighted;
  if (column == "log_norm") return l.log_norm;
  if (column == "log_alpha_norm") return l.log_alpha_norm;
  return std::nullopt;
}

std::string TypeColor(LayerType t) {
  switch (t) {
    case LayerType::kDense:
      return PaletteColor(0);
    case LayerType::kConv2d:
      return PaletteColor(1);
    case LayerType::kConv1d:
      return PaletteColor(4);
  }
  return PaletteColor(9);
}

std::string Tip(const std::string& model, const LayerResult& l, const std::string& column,
                double v) {
  return absl::StrFormat("%s%s layer %d %s (%s, %d x %d): %s = %.3f", model,
                         model.empty() ? "" : ":", l.plan.layer_id, l.plan.name,
                         std::string(LayerTypeName(l.plan.type)), l.plan.N, l.plan.M, column, v);
}

// A file-name-safe id fragment.
std::string Slug(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o.substr(0, 60);
}

PlotSpec ByDepth(const std::vector<NamedModel>& models, const std::string& column) {
  PlotSpec p;
  p.x_label = "layer id (depth)";
  p.y_label = column;
  if (models.size() == 1) {
    const auto& layers = models[0].report->layers;
    PlotSeries flow;  // thin line through every layer, in depth order
    flow.color = "#bbbbbb";
    flow.line = true;
    flow.markers = false;
    flow.width = 1;
    std::map<LayerType, PlotSeries> by_type;
    for (const LayerResult& l : layers) {
      const auto v = DepthValue(l, column);
      if (!v) continue;
      flow.points.push_back({static_cast<double>(l.plan.layer_id), *v, ""});
      PlotSeries& s = by_type[l.plan.type];
      s.label = std::string(LayerTypeName(l.plan.type));
      s.color = TypeColor(l.plan.type);
      s.points.push_back({static_cast<double>(l.plan.layer_id), *v, Tip("", l, column, *v)});
    }
    std::vector<double> values;
    for (const PlotPoint& pt : flow.points) values.push_back(pt.y);
    SetRobustYView(p, values);
    p.series.push_back(std::move(flow));
    for (auto& [t, s] : by_type) p.series.push_back(std::move(s));
  } else {
    // Models of different depth (GPT-2 sizes, the 8 VGGs) overlaid on raw layer ids are
    // unreadable: each is drawn on its relative depth, 0 = first layer, 1 = last.
    p.x_label = "relative depth (0 = first layer, 1 = last)";
    for (size_t i = 0; i < models.size(); ++i) {
      PlotSeries s;
      s.label = models[i].name;
      s.color = PaletteColor(i);
      s.line = true;
      int lo = 0, hi = 0;
      bool first = true;
      for (const LayerResult& l : models[i].report->layers) {
        lo = first ? l.plan.layer_id : std::min(lo, l.plan.layer_id);
        hi = first ? l.plan.layer_id : std::max(hi, l.plan.layer_id);
        first = false;
      }
      for (const LayerResult& l : models[i].report->layers) {
        const auto v = DepthValue(l, column);
        const double x =
            hi > lo ? static_cast<double>(l.plan.layer_id - lo) / static_cast<double>(hi - lo)
                    : 0.0;
        if (v) s.points.push_back({x, *v, Tip(models[i].name, l, column, *v)});
      }
      p.series.push_back(std::move(s));
    }
    std::vector<double> values;
    for (const PlotSeries& s : p.series) {
      for (const PlotPoint& pt : s.points) values.push_back(pt.y);
    }
    SetRobustYView(p, values);
  }
  return p;
}

}  // namespace

PlotSpec CorrelationFlowPlot(const std::vector<NamedModel>& models) {
  PlotSpec p = ByDepth(models, "alpha");
  p.id = "correlation_flow";
  p.title = "Correlation flow: alpha by depth";
  // The band stays in view whatever the robust range says.
  p.y_view_min = std::min(p.y_view_min, 0.0);
  p.y_view_max = std::max(p.y_view_max, 8.0);
  p.bands.push_back({2, 6, "#59a14f", "well-trained band 2 <= alpha <= 6"});
  p.rules.push_back({false, 2, "#59a14f", "alpha = 2: below, over-trained"});
  p.rules.push_back({false, 6, "#e15759", "alpha = 6: above, under-trained"});
  return p;
}

PlotSpec DepthPlot(const std::vector<NamedModel>& models, const std::string& column) {
  PlotSpec p = ByDepth(models, column);
  p.id = absl::StrCat(column, "_by_depth");
  p.title =
      absl::StrCat(column == "log_spectral_norm" ? "log10 spectral norm" : column, " by depth");
  return p;
}

std::vector<const LayerResult*> WorstLayers(const std::vector<LayerResult>& layers, size_t count) {
  std::vector<const LayerResult*> ok;
  for (const LayerResult& l : layers) {
    if (l.status == LayerStatus::kSuccess) ok.push_back(&l);
  }
  // Non-finite values (from hand-edited files) must not break the sort's strict weak order.
  auto finite_or = [](double v, double fallback) { return std::isfinite(v) ? v : fallback; };
  auto outside = [&](const LayerResult* l) {
    const double a = finite_or(l->alpha, 4);
    return std::max(0.0, a - 6) + std::max(0.0, 2 - a);
  };
  std::stable_sort(ok.begin(), ok.end(), [&](const LayerResult* a, const LayerResult* b) {
    const double oa = outside(a), ob = outside(b);
    if (oa != ob) return oa > ob;
    return finite_or(a->D, -1) > finite_or(b->D, -1);
  });
  if (ok.size() > count) ok.resize(count);
  return ok;
}

std::optional<PlotSpec> EsdPlot(const std::string& model, const LayerResult& l) {
  if (l.evals.empty()) return std::nullopt;
  PlotSpec p;
  p.id = absl::StrCat("esd_", Slug(model), "_layer", l.plan.layer_id);
  p.title = absl::StrFormat("ESD of layer %d %s", l.plan.layer_id, l.plan.name);
  p.x_label = "eigenvalue lambda (log)";
  p.y_label = "density (log)";
  p.x_scale = p.y_scale = Scale::kLog10;
  const DensityHistogram h = LogHistogram(l.evals, 40);
  PlotSeries bars;
  bars.label = absl::StrCat("ESD (", l.evals.size(), " eigenvalues)");
  bars.color = PaletteColor(0);
  bars.bars = true;
  bars.markers = false;
  bars.bar_edges = h.edges;
  for (size_t i = 0; i < h.centers.size(); ++i)
    bars.points.push_back({h.centers[i], h.density[i], ""});
  // Empty bins have no place on a log axis: the renderer leaves those bars out.
  p.series.push_back(std::move(bars));
  size_t positive = 0;
  for (double e : l.evals) positive += e > 0 ? 1 : 0;
  if (l.alpha > 1 && l.xmin > 0 && positive > 0) {
    const double frac =
        static_cast<double>(std::max<int64_t>(l.num_pl_spikes, 0)) / static_cast<double>(positive);
    PlotSeries pl;
    pl.label = absl::StrFormat("power law, alpha = %.2f, from xmin = %.3g", l.alpha, l.xmin);
    pl.color = "#e15759";
    pl.line = true;
    pl.markers = false;
    pl.width = 2.4;
    for (const CurvePoint& c : PowerLawDensity(l.xmin, l.evals.back(), l.alpha, frac, 60)) {
      pl.points.push_back({c.x, c.y, ""});
    }
    p.series.push_back(std::move(pl));
    p.rules.push_back({true, l.xmin, "#e15759", "xmin: start of the fitted tail"});
  }
  if (l.sigma_mp && l.W_scale && l.plan.M > 0) {
    const double Q = static_cast<double>(l.plan.N) / static_cast<double>(l.plan.M);
    size_t in_bulk = 0;
    for (double e : l.evals) in_bulk += (e > 0 && (!l.bulk_max || e <= *l.bulk_max)) ? 1 : 0;
    PlotSeries mp;
    mp.label = absl::StrFormat("Marchenko-Pastur bulk, sigma = %.3f", *l.sigma_mp);
    mp.color = "#59a14f";
    mp.line = true;
    mp.markers = false;
    mp.dash = "6 3";
    for (const CurvePoint& c : MarchenkoPasturDensity(
             *l.sigma_mp, Q, *l.W_scale,
             static_cast<double>(in_bulk) / static_cast<double>(std::max<size_t>(positive, 1)),
             80)) {
      mp.points.push_back({c.x, c.y, ""});
    }
    p.series.push_back(std::move(mp));
  }
  p.note = absl::StrFormat("%s: alpha %.2f, D %.3f, %d eigenvalues in the tail", model, l.alpha,
                           l.D, l.num_pl_spikes);
  if (positive < l.evals.size()) {
    absl::StrAppend(&p.note,
                    absl::StrFormat(", %d zero eigenvalues not shown", l.evals.size() - positive));
  }
  return p;
}

PlotSpec TrendScatter(const trends::MetricTrend& t, const std::string& series,
                      const std::string& target_name) {
  PlotSpec p;
  p.id = absl::StrCat("trend_", Slug(series.empty() ? "all" : series), "_", Slug(t.metric));
  p.title =
      absl::StrCat(series.empty() ? "" : absl::StrCat(series, ": "), target_name, " vs ", t.metric);
  p.x_label = absl::StrCat("model average of ", t.metric);
  p.y_label = target_name;
  p.width = 420;
  p.height = 320;
  PlotSeries pts;
  pts.label = "";
  pts.color = PaletteColor(0);
  for (size_t i = 0; i < t.x.size(); ++i) {
    const bool out =
        std::find(t.outliers.begin(), t.outliers.end(), t.models[i]) != t.outliers.end();
    pts.points.push_back(
        {t.x[i], t.y[i],
         absl::StrFormat("%s: %s = %.4g, %s = %.4g%s", t.models[i], t.metric, t.x[i], target_name,
                         t.y[i], out ? " (off the trend)" : "")});
  }
  p.series.push_back(std::move(pts));
  PlotSeries outl;
  outl.label = t.outliers.empty() ? "" : "off the trend";
  outl.color = PaletteColor(2);
  for (size_t i = 0; i < t.x.size(); ++i) {
    if (std::find(t.outliers.begin(), t.outliers.end(), t.models[i]) != t.outliers.end()) {
      outl.points.push_back({t.x[i], t.y[i], t.models[i]});
    }
  }
  if (!outl.points.empty()) p.series.push_back(std::move(outl));
  if (t.fit && !t.x.empty()) {
    const auto [mn, mx] = std::minmax_element(t.x.begin(), t.x.end());
    PlotSeries line;
    line.label = "least-squares fit";
    line.color = "#333333";
    line.line = true;
    line.markers = false;
    line.points = {{*mn, t.fit->intercept + t.fit->slope * *mn, ""},
                   {*mx, t.fit->intercept + t.fit->slope * *mx, ""}};
    p.series.push_back(std::move(line));
    p.note = absl::StrFormat("RMSE %.3g, R^2 %.3f, Kendall tau %.2f, %d models", t.fit->rmse,
                             t.fit->r2, t.kendall_tau, t.fit->n);
  } else {
    p.note = t.error;
  }
  return p;
}

}  // namespace htsr::report
