// Charts: SVG text structure and escaping, tick choice, and the ESD curves against their
// closed-form normalisations.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace htsr::report
