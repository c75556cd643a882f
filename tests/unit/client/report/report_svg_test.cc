// Charts: SVG text structure and escaping, tick choice, the ESD curves against their
// closed-form normalisations, and the comparing charts (small multiples on shared scales,
// shared-bin histograms, fit stability).
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "htsr/powerlaw_fit.h"
#include "model/model_report.h"
#include "report/esd_curves.h"
#include "report/report_plots.h"
#include "report/svg_plot.h"

namespace htsr::report {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(SvgPlotTest, EscapesTextAndCountsWhatItCannotDraw) {
  PlotSpec spec;
  spec.id = "t";
  spec.title = "a < b & \"c\"";
  spec.y_scale = Scale::kLog10;
  PlotSeries s;
  s.label = "<series>";
  s.points = {{1, 10, "tip & more"}, {2, 100, ""}, {3, -1, ""}, {4, NAN, ""}};
  s.line = true;
  spec.series.push_back(s);
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("a &lt; b &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_NE(svg.find("&lt;series&gt;"), std::string::npos);
  EXPECT_NE(svg.find("<title>tip &amp; more</title>"), std::string::npos);
  EXPECT_NE(svg.find("2 point(s) not drawable"), std::string::npos);
  EXPECT_EQ(Count(svg, "<circle"), 2u + 1u);  // two points and one legend dot
  EXPECT_EQ(Count(svg, "<svg"), Count(svg, "</svg>"));
  EXPECT_EQ(Count(svg, "<g "), Count(svg, "</g>"));
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

TEST(SvgPlotTest, RobustViewKeepsTheBulkReadable) {
  PlotSpec spec;
  std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1e15};
  SetRobustYView(spec, v);
  EXPECT_TRUE(std::isinf(spec.y_view_min));  // nothing absurd below
  EXPECT_LT(spec.y_view_max, 100);
  PlotSeries s;
  for (size_t i = 0; i < v.size(); ++i) s.points.push_back({static_cast<double>(i), v[i], ""});
  spec.series.push_back(s);
  EXPECT_NE(RenderSvg(spec).find("1 point(s) off the chart (above"), std::string::npos);
}

TEST(SvgPlotTest, NiceTicks) {
  EXPECT_EQ(LinearTicks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const std::vector<double> want = {-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3};
  const std::vector<double> got = LinearTicks(-0.3, 0.3, 6);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15);
  EXPECT_TRUE(LinearTicks(1, 1, 5).empty());
}

TEST(EsdCurvesTest, HistogramIsADensity) {
  std::vector<double> ev;
  for (int i = 1; i <= 1000; ++i) ev.push_back(std::pow(1.01, i));
  ev.push_back(0.0);  // zero eigenvalues have no place on a log axis
  const DensityHistogram h = LogHistogram(ev, 25);
  ASSERT_EQ(h.edges.size(), 26u);
  double mass = 0;
  for (size_t i = 0; i < h.density.size(); ++i)
    mass += h.density[i] * (h.edges[i + 1] - h.edges[i]);
  EXPECT_NEAR(mass, 1.0, 1e-12);
  EXPECT_NEAR(h.edges.front(), 1.01, 1e-12);
}

TEST(EsdCurvesTest, PowerLawStartsAtItsNormalisedValue) {
  const auto c = PowerLawDensity(2.0, 50.0, 3.0, 0.25, 10);
  ASSERT_EQ(c.size(), 10u);
  EXPECT_DOUBLE_EQ(c.front().x, 2.0);
  EXPECT_NEAR(c.front().y, 0.25 * 2.0 / 2.0, 1e-15);
  EXPECT_NEAR(c.back().y, 0.25 * 1.0 * std::pow(25.0, -3.0), 1e-15);
  EXPECT_TRUE(PowerLawDensity(2.0, 50.0, 1.0, 1, 10).empty());
}

TEST(EsdCurvesTest, MarchenkoPasturIntegratesToItsFraction) {
  // Q = 4, sigma = 1: edges (1 -+ 1/2)^2 = 0.25, 2.25, in rescaled units; W_scale = 2 maps
  // them to 0.0625 .. 0.5625 and multiplies the density by 4.
  const auto c = MarchenkoPasturDensity(1.0, 4.0, 2.0, 0.9, 4001);
  ASSERT_FALSE(c.empty());
  EXPECT_GT(c.front().x, 0.0625);
  EXPECT_LT(c.back().x, 0.5625);
  double mass = 0;
  for (size_t i = 1; i < c.size(); ++i) mass += 0.5 * (c[i].y + c[i - 1].y) * (c[i].x - c[i - 1].x);
  EXPECT_NEAR(mass, 0.9, 2e-3);
}

LayerResult Layer(int id, double alpha, double D) {
  LayerResult r;
  r.plan.layer_id = id;
  r.plan.name = absl::StrCat("l", id);
  r.alpha = alpha;
  r.D = D;
  return r;
}

TEST(ReportPlotsTest, WorstLayersOutsideTheBandFirstThenPoorFits) {
  std::vector<LayerResult> l = {Layer(1, 3, 0.05), Layer(2, 9, 0.01), Layer(3, 1.5, 0.02),
                                Layer(4, 4, 0.2), Layer(5, 12, 0.01)};
  l.push_back(Layer(6, 30, 0.3));
  l.back().status = LayerStatus::kFailed;
  const auto worst = WorstLayers(l, 4);
  ASSERT_EQ(worst.size(), 4u);
  EXPECT_EQ(worst[0]->plan.layer_id, 5);  // 6 above the band
  EXPECT_EQ(worst[1]->plan.layer_id, 2);  // 3 above
  EXPECT_EQ(worst[2]->plan.layer_id, 3);  // 0.5 below
  EXPECT_EQ(worst[3]->plan.layer_id, 4);  // inside, largest D
}

TEST(ReportPlotsTest, EsdNeedsEigenvaluesAndDrawsTheFit) {
  LayerResult l = Layer(7, 2.5, 0.05);
  EXPECT_FALSE(EsdPlot("m", l).has_value());
  for (int i = 1; i <= 200; ++i) l.evals.push_back(0.01 * i);
  l.xmin = 1.0;
  l.num_pl_spikes = 101;
  l.plan.N = 400;
  l.plan.M = 200;
  l.sigma_mp = 0.9;
  l.W_scale = 1.0;
  l.bulk_max = 1.5;
  auto p = EsdPlot("m", l);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->id, "esd_m_layer7");
  EXPECT_EQ(p->x_scale, Scale::kLog10);
  ASSERT_EQ(p->series.size(), 3u);  // histogram, power law, MP bulk
  EXPECT_TRUE(p->series[0].bars);
  EXPECT_NEAR(p->series[1].points.front().x, 1.0, 1e-12);
  EXPECT_NEAR(p->series[1].points.front().y, 101.0 / 200 * 1.5, 1e-12);
  EXPECT_EQ(p->rules.size(), 1u);  // xmin
}

TEST(EsdCurvesTest, FloorLeavesTinyEigenvaluesOutButKeepsTheNormalisation) {
  std::vector<double> ev(100, 1e-8);  // a square layer's near-null directions
  for (int i = 1; i <= 100; ++i) ev.push_back(std::pow(1.01, i));
  const DensityHistogram h = LogHistogram(ev, 20, 1e-3);
  ASSERT_EQ(h.edges.size(), 21u);
  EXPECT_NEAR(h.edges.front(), 1.01, 1e-12);
  double mass = 0;
  for (size_t i = 0; i < h.density.size(); ++i)
    mass += h.density[i] * (h.edges[i + 1] - h.edges[i]);
  EXPECT_NEAR(mass, 0.5, 1e-12);  // half of the positive eigenvalues are in the bins
  EXPECT_DOUBLE_EQ(EsdFloor(100, 5), 0.05);
  EXPECT_DOUBLE_EQ(EsdFloor(100, -1), 0.01);
}

PlotSeries Series(const std::string& label, std::vector<PlotPoint> points) {
  PlotSeries s;
  s.label = label;
  s.color = "#111111";
  s.points = std::move(points);
  return s;
}

TEST(SvgPlotTest, LegendSitsBelowThePlotFrame) {
  PlotSpec p;
  p.id = "t";
  p.width = 400;
  p.height = 300;
  p.series.push_back(Series("first", {{1, 1, ""}, {2, 2, ""}}));
  p.series.push_back(Series("second", {{1, 2, ""}}));
  p.bands.push_back({0, 1, "#00ff00", "band"});
  const std::string svg = RenderSvg(p);
  // One row of three short entries: 16 px plus 8 of spacing.
  EXPECT_EQ(RenderedHeight(p), 324);
  EXPECT_NE(svg.find("height=\"324\""), std::string::npos);
  // Legend markers follow the clipped data group; the frame's bottom is 300 - 46 = 254.
  const std::string legend = svg.substr(svg.find("</g>"));
  ASSERT_EQ(Count(legend, "<circle"), 2u);
  for (size_t at = legend.find("cy=\""); at != std::string::npos;
       at = legend.find("cy=\"", at + 1)) {
    EXPECT_GT(std::stod(legend.substr(at + 4)), 254 + 20);
  }
  p.series[0].label = p.series[1].label = p.bands[0].label = "";
  EXPECT_EQ(RenderedHeight(p), 300);  // no legend, no extra room
}

TEST(SvgPlotTest, GridNestsOnePanelPerSpecInRows) {
  PlotGrid g;
  g.id = "grid";
  g.title = "T";
  g.columns = 2;
  for (int i = 0; i < 3; ++i) {
    PlotSpec p;
    p.id = absl::StrCat("p", i);
    p.width = 300;
    p.height = 200;
    p.series.push_back(Series("", {{1, 1, ""}}));
    g.panels.push_back(p);
  }
  const std::string svg = RenderGridSvg(g);
  EXPECT_EQ(Count(svg, "<svg "), 4u);
  EXPECT_EQ(Count(svg, "</svg>"), 4u);
  EXPECT_NE(svg.find("width=\"600\" height=\"428\""), std::string::npos);  // 28 + 2 rows
  EXPECT_NE(svg.find("<svg x=\"300.00\" y=\"28.00\""), std::string::npos);
  EXPECT_NE(svg.find("<svg x=\"0.00\" y=\"228.00\""), std::string::npos);
}

model::ModelReport Model(const std::vector<double>& alphas) {
  model::ModelReport r;
  for (size_t i = 0; i < alphas.size(); ++i) {
    LayerResult l = Layer(static_cast<int>(i) + 1, alphas[i], 0.05);
    l.status = LayerStatus::kSuccess;
    l.log_spectral_norm = static_cast<double>(i);
    r.layers.push_back(l);
  }
  return r;
}

TEST(ReportPlotsTest, SmallMultiplesOnePanelPerModelOnOneScale) {
  const model::ModelReport a = Model({3, 4, 5}), b = Model({2.5, 7, 3, 3.5, 4});
  const std::vector<NamedModel> models = {{"dir1/m", &a}, {"dir2/m", &b}};
  const PlotGrid g = CorrelationFlowPanels(models);
  EXPECT_EQ(g.id, "correlation_flow");
  ASSERT_EQ(g.panels.size(), 2u);
  EXPECT_EQ(g.panels[0].title, "dir1/m");
  EXPECT_EQ(g.panels[1].title, "dir2/m");
  EXPECT_NE(g.panels[0].id, g.panels[1].id);
  for (const PlotSpec& p : g.panels) {
    EXPECT_EQ(p.y_min, 1.5);  // all values (2.5 .. 7) and the band's edges in view
    EXPECT_EQ(p.y_max, 7);
    EXPECT_EQ(p.x_min, 0);
    EXPECT_EQ(p.x_max, 1);
    ASSERT_EQ(p.series.size(), 1u);
    EXPECT_TRUE(p.series[0].label.empty());  // one model per panel: no legend
  }
  // Relative depth: layer ids 1..3 -> 0, 0.5, 1; ids 1..5 -> quarters.
  EXPECT_EQ(g.panels[0].series[0].points[1].x, 0.5);
  EXPECT_EQ(g.panels[1].series[0].points[1].x, 0.25);
  EXPECT_EQ(g.panels[1].series[0].points[1].y, 7);
  const PlotGrid n = DepthPanels(models, "log_spectral_norm");
  EXPECT_EQ(n.panels[0].y_max, 4);  // model b's deepest layer, shared with model a's panel
  EXPECT_EQ(n.panels[0].y_min, 0);
}

TEST(ReportPlotsTest, HistogramsShareBinsAndScale) {
  const model::ModelReport a = Model({2, 3, 4, 5, 6}), b = Model({2, 2, 2, 6, 6});
  const PlotGrid g = HistogramPanels({{"a", &a}, {"b", &b}}, "alpha", 4);
  ASSERT_EQ(g.panels.size(), 2u);
  const std::vector<double> edges = {2, 3, 4, 5, 6};
  const std::vector<std::vector<double>> want = {{0.2, 0.2, 0.2, 0.4}, {0.6, 0, 0, 0.4}};
  for (size_t m = 0; m < 2; ++m) {
    const PlotSpec& p = g.panels[m];
    EXPECT_EQ(p.series[0].bar_edges, edges);
    ASSERT_EQ(p.series[0].points.size(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(p.series[0].points[i].y, want[m][i], 1e-15);
    EXPECT_EQ(p.y_max, 0.6);
    EXPECT_EQ(p.rules.size(), 2u);  // alpha = 2 and 6
  }
}

TEST(ReportPlotsTest, FitStabilityMarksTheChosenXmin) {
  LayerResult l = Layer(3, 2.5, 0.05);
  l.status = LayerStatus::kSuccess;
  EXPECT_FALSE(FitStabilityPlot("m", l).has_value());  // no eigenvalues
  for (int i = 0; i < 300; ++i) l.evals.push_back(std::pow(1 - (i + 0.5) / 300, -0.5));
  std::sort(l.evals.begin(), l.evals.end());
  const std::vector<ScanCandidate> curve = ScanCurve(l.evals, 1000);
  const auto best = *std::min_element(curve.begin(), curve.end(),
                                      [](const auto& x, const auto& y) { return x.D < y.D; });
  l.xmin = best.xmin;
  l.alpha = best.alpha;
  l.D = best.D;
  l.xmax = l.evals.back();
  const auto g = FitStabilityPlot("m", l);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->id, "fit_m_layer3");
  ASSERT_EQ(g->panels.size(), 2u);
  const PlotSpec& d = g->panels[0];
  EXPECT_EQ(d.y_label, "D");
  EXPECT_EQ(d.series[0].points.size(), 299u);  // every candidate, none below xmin / 100
  double dmin = 1;
  for (const PlotPoint& p : d.series[0].points) dmin = std::min(dmin, p.y);
  EXPECT_EQ(dmin, l.D);
  ASSERT_EQ(d.series[1].points.size(), 1u);
  EXPECT_EQ(d.series[1].points[0].x, l.xmin);
  EXPECT_EQ(g->panels[1].series[1].points[0].y, l.alpha);
  ASSERT_EQ(d.rules.size(), 1u);
  EXPECT_TRUE(d.rules[0].vertical);
  EXPECT_EQ(d.rules[0].at, l.xmin);
  EXPECT_NE(g->note.find("chosen xmin"), std::string::npos);
  l.Lambda = 0.1;  // a truncated power law: the power-law scan is not its fit
  EXPECT_FALSE(FitStabilityPlot("m", l).has_value());
}

}  // namespace
}  // namespace htsr::report
