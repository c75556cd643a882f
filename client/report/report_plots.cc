#include "report/report_plots.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "htsr/ks_math.h"
#include "htsr/powerlaw_fit.h"
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

// A layer's depth within its model: 0 = first layer id, 1 = last.
double RelativeDepth(const model::ModelReport& r, const LayerResult& l) {
  int lo = 0, hi = 0;
  bool first = true;
  for (const LayerResult& x : r.layers) {
    lo = first ? x.plan.layer_id : std::min(lo, x.plan.layer_id);
    hi = first ? x.plan.layer_id : std::max(hi, x.plan.layer_id);
    first = false;
  }
  return hi > lo ? static_cast<double>(l.plan.layer_id - lo) / static_cast<double>(hi - lo) : 0.0;
}

// The finite values inside a robust view of `values` (SetRobustYView) and how many fell out.
struct RobustRange {
  double lo = 0, hi = 1;
  size_t outside = 0;
  bool any = false;
};
RobustRange RobustRangeOf(const std::vector<double>& values) {
  PlotSpec view;
  SetRobustYView(view, values);
  RobustRange r;
  for (double v : values) {
    if (!std::isfinite(v) || v < view.y_view_min || v > view.y_view_max) {
      r.outside += std::isfinite(v) ? 1 : 0;
      continue;
    }
    r.lo = r.any ? std::min(r.lo, v) : v;
    r.hi = r.any ? std::max(r.hi, v) : v;
    r.any = true;
  }
  return r;
}

// One panel per model on relative depth, sharing the y range of all models' values.
PlotGrid PanelsByDepth(const std::vector<NamedModel>& models, const std::string& column,
                       const std::string& id) {
  PlotGrid g;
  g.id = id;
  g.columns = 4;
  std::vector<double> all;
  for (const NamedModel& m : models) {
    for (const LayerResult& l : m.report->layers) {
      if (auto v = DepthValue(l, column)) all.push_back(*v);
    }
  }
  PlotSpec shared;
  SetRobustYView(shared, all);
  const RobustRange range = RobustRangeOf(all);
  for (size_t i = 0; i < models.size(); ++i) {
    PlotSpec p;
    p.id = absl::StrCat(id, "_", Slug(models[i].name), "_", i);
    p.title = models[i].name;
    p.x_label = "relative depth";
    p.y_label = column;
    p.width = 330;
    p.height = 250;
    p.x_min = 0;
    p.x_max = 1;
    p.y_view_min = shared.y_view_min;
    p.y_view_max = shared.y_view_max;
    if (range.any) {
      p.y_min = range.lo;
      p.y_max = range.hi;
    }
    PlotSeries s;
    s.color = PaletteColor(i);
    s.line = true;
    for (const LayerResult& l : models[i].report->layers) {
      if (auto v = DepthValue(l, column)) {
        s.points.push_back(
            {RelativeDepth(*models[i].report, l), *v, Tip(models[i].name, l, column, *v)});
      }
    }
    // The line runs in depth order whatever the row order of the input (result files need
    // not be sorted), and dense models get smaller markers so the line stays readable.
    std::stable_sort(s.points.begin(), s.points.end(),
                     [](const PlotPoint& a, const PlotPoint& b) { return a.x < b.x; });
    if (s.points.size() > 60) s.radius = 2;
    if (s.points.empty()) p.note = "no analysed layer";
    p.series.push_back(std::move(s));
    g.panels.push_back(std::move(p));
  }
  return g;
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

PlotGrid CorrelationFlowPanels(const std::vector<NamedModel>& models) {
  PlotGrid g = PanelsByDepth(models, "alpha", "correlation_flow");
  g.title = "Correlation flow: alpha by relative depth, one panel per model";
  g.note = "green band: 2 <= alpha <= 6 (well trained); dashed: alpha = 2 and alpha = 6";
  for (PlotSpec& p : g.panels) {
    // The band stays in view whatever the robust range says.
    p.y_view_min = std::min(p.y_view_min, 0.0);
    p.y_view_max = std::max(p.y_view_max, 8.0);
    p.y_min = std::min(std::isnan(p.y_min) ? 1.5 : p.y_min, 1.5);
    p.y_max = std::max(std::isnan(p.y_max) ? 6.5 : p.y_max, 6.5);
    p.bands.push_back({2, 6, "#59a14f", ""});
    p.rules.push_back({false, 2, "#59a14f", "alpha = 2: below, over-trained"});
    p.rules.push_back({false, 6, "#e15759", "alpha = 6: above, under-trained"});
  }
  return g;
}

PlotGrid DepthPanels(const std::vector<NamedModel>& models, const std::string& column) {
  PlotGrid g = PanelsByDepth(models, column, absl::StrCat(column, "_by_depth"));
  g.title = absl::StrCat(column == "log_spectral_norm" ? "log10 spectral norm" : column,
                         " by relative depth, one panel per model (same y scale)");
  return g;
}

PlotGrid HistogramPanels(const std::vector<NamedModel>& models, const std::string& column,
                         int bins) {
  PlotGrid g;
  const bool lambda = column == "log_spectral_norm";
  const std::string what = lambda ? "log10 lambda_max" : column;
  g.id = absl::StrCat("hist_", column);
  g.title = absl::StrCat("Histogram of ", what, " per model (same bins)");
  g.columns = 4;
  std::vector<double> all;
  for (const NamedModel& m : models) {
    for (const LayerResult& l : m.report->layers) {
      if (auto v = DepthValue(l, column)) all.push_back(*v);
    }
  }
  const RobustRange range = RobustRangeOf(all);
  bins = std::max(bins, 1);
  std::vector<double> edges;
  double lo = range.lo, hi = range.hi;
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  for (int b = 0; b <= bins; ++b) edges.push_back(lo + (hi - lo) * b / bins);
  std::vector<std::vector<double>> fractions;
  double top = 0;
  size_t outside = 0;
  for (const NamedModel& m : models) {
    std::vector<double> counts(bins, 0);
    double n = 0;
    for (const LayerResult& l : m.report->layers) {
      const auto v = DepthValue(l, column);
      if (!v || !std::isfinite(*v)) continue;
      n += 1;
      if (*v < lo || *v > hi) {
        ++outside;
        continue;
      }
      counts[std::clamp(static_cast<int>((*v - lo) / (hi - lo) * bins), 0, bins - 1)] += 1;
    }
    for (double& c : counts) {
      c = n > 0 ? c / n : 0;
      top = std::max(top, c);
    }
    fractions.push_back(std::move(counts));
  }
  if (outside > 0) {
    g.note = absl::StrFormat("%d layer(s) outside [%.3g, %.3g] not binned", outside, lo, hi);
  }
  for (size_t i = 0; i < models.size(); ++i) {
    PlotSpec p;
    p.id = absl::StrCat(g.id, "_", Slug(models[i].name), "_", i);
    p.title = models[i].name;
    p.x_label = what;
    p.y_label = "fraction of layers";
    p.width = 330;
    p.height = 230;
    p.x_min = lo;
    p.x_max = hi;
    p.y_min = 0;
    p.y_max = top > 0 ? top : 1;
    PlotSeries s;
    s.color = PaletteColor(i);
    s.bars = true;
    s.markers = false;
    s.bar_edges = edges;
    for (int b = 0; b < bins; ++b)
      s.points.push_back({(edges[b] + edges[b + 1]) / 2, fractions[i][b], ""});
    p.series.push_back(std::move(s));
    if (!lambda && column == "alpha") {
      p.rules.push_back({true, 2, "#59a14f", "alpha = 2"});
      p.rules.push_back({true, 6, "#e15759", "alpha = 6"});
    }
    g.panels.push_back(std::move(p));
  }
  return g;
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
  const double lambda_max = l.evals.back();
  const double floor = EsdFloor(lambda_max, l.alpha > 1 ? l.xmin : -1);
  const DensityHistogram h = LogHistogram(l.evals, 50, floor);
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
      if (c.x >= floor) mp.points.push_back({c.x, c.y, ""});
    }
    p.series.push_back(std::move(mp));
  }
  p.note = absl::StrFormat("%s: alpha %.2f, D %.3f, %d eigenvalues in the tail", model, l.alpha,
                           l.D, l.num_pl_spikes);
  size_t below = 0;
  for (double e : l.evals) below += (e > 0 && e < floor) ? 1 : 0;
  if (below > 0)
    absl::StrAppend(&p.note, absl::StrFormat(", %d below %.2g not shown", below, floor));
  if (positive < l.evals.size()) {
    absl::StrAppend(&p.note,
                    absl::StrFormat(", %d zero eigenvalues not shown", l.evals.size() - positive));
  }
  return p;
}

std::optional<PlotGrid> FitStabilityPlot(const std::string& model, const LayerResult& l) {
  if (l.evals.empty() || l.status != LayerStatus::kSuccess || !(l.alpha > 1) || !(l.xmin > 0) ||
      l.Lambda.has_value()) {
    return std::nullopt;
  }
  // The fitted values: above the fit threshold, up to the fit's xmax (--xmax -k and
  // fix_fingers clip the top), as FitPowerLaw hands them to the scan.
  std::vector<double> data;
  for (double e : l.evals) {
    if (e > ks::kFitThreshold && (l.xmax <= 0 || e <= l.xmax)) data.push_back(e);
  }
  const std::vector<ScanCandidate> curve = ScanCurve(data, 400);
  if (curve.empty()) return std::nullopt;
  double dmin = 1;
  for (const ScanCandidate& c : curve) dmin = std::min(dmin, c.D);
  double x0 = 0, x1 = 0, a0 = 0, a1 = 0;
  bool any = false;
  for (const ScanCandidate& c : curve) {
    if (c.D > dmin + 0.01) continue;
    x0 = any ? std::min(x0, c.xmin) : c.xmin;
    x1 = any ? std::max(x1, c.xmin) : c.xmin;
    a0 = any ? std::min(a0, c.alpha) : c.alpha;
    a1 = any ? std::max(a1, c.alpha) : c.alpha;
    any = true;
  }
  PlotGrid g;
  g.id = absl::StrCat("fit_", Slug(model), "_layer", l.plan.layer_id);
  g.title = absl::StrFormat("Fit stability of layer %d %s", l.plan.layer_id, l.plan.name);
  g.note = absl::StrFormat(
      "chosen xmin %.3g (D %.3f, alpha %.2f); D within 0.01 of its minimum for xmin "
      "%.3g..%.3g (alpha %.2f..%.2f)",
      l.xmin, l.D, l.alpha, x0, x1, a0, a1);
  // The candidates from the ESD plot's floor up, as the ESD beside it shows them: the
  // thousands of tiny xmins below it would squeeze the region around the chosen one.
  const double floor = EsdFloor(l.evals.back(), l.xmin);
  const size_t hidden = static_cast<size_t>(std::count_if(
      curve.begin(), curve.end(), [&](const ScanCandidate& c) { return c.xmin < floor; }));

  g.columns = 2;
  for (const bool is_d : {true, false}) {
    PlotSpec p;
    p.id = absl::StrCat(g.id, is_d ? "_D" : "_alpha");
    p.title = is_d ? "KS distance D against xmin" : "alpha against xmin";
    p.x_label = "candidate xmin (log)";
    p.y_label = is_d ? "D" : "alpha";
    p.x_scale = Scale::kLog10;
    p.width = 330;
    p.height = 250;
    PlotSeries s;
    s.color = PaletteColor(0);
    s.line = true;
    s.radius = curve.size() > 60 ? 1.6 : 3.2;  // every candidate keeps its hover text
    s.width = 1.5;
    std::vector<double> ys;
    for (const ScanCandidate& c : curve) {
      if (c.xmin < floor) continue;
      const double y = is_d ? c.D : c.alpha;
      s.points.push_back({c.xmin, y,
                          absl::StrFormat("xmin %.4g: D %.4f, alpha %.3f, %d in the tail", c.xmin,
                                          c.D, c.alpha, c.tail)});
      ys.push_back(y);
    }
    ys.push_back(is_d ? l.D : l.alpha);
    if (!is_d) {
      // Alpha explodes for the last few (tiny) tails: keep the bulk, and the chosen value.
      SetRobustYView(p, ys);
      p.y_view_min = std::min(p.y_view_min, l.alpha);
      p.y_view_max = std::max(p.y_view_max, l.alpha);
    }
    p.series.push_back(std::move(s));
    if (hidden > 0 && is_d)
      p.note = absl::StrFormat("%d smaller xmin (< %.2g) not shown", hidden, floor);
    PlotSeries chosen;
    chosen.color = "#e15759";
    chosen.radius = 5;
    chosen.points.push_back(
        {l.xmin, is_d ? l.D : l.alpha,
         absl::StrFormat("chosen xmin %.4g: D %.4f, alpha %.3f", l.xmin, l.D, l.alpha)});
    p.series.push_back(std::move(chosen));
    p.rules.push_back({true, l.xmin, "#e15759", "chosen xmin"});
    g.panels.push_back(std::move(p));
  }
  return g;
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
