// The HTML report's content: sections, diagnostics in words, the sortable table, the trend
// table, and nothing that reaches the network.
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "report/html_report.h"
#include "results/layer_rows.h"

namespace htsr::report {
namespace {

model::ModelRecord Model(const std::string& name, double shift, double target) {
  model::ModelRecord m;
  m.name = name;
  m.source = name + ".json";
  m.has_layers = true;
  for (int i = 1; i <= 6; ++i) {
    LayerResult l;
    l.plan.layer_id = i;
    l.plan.name = "block" + std::to_string(i) + "<b>";
    l.plan.type = i % 2 ? LayerType::kConv2d : LayerType::kDense;
    l.plan.N = 64;
    l.plan.M = 32;
    l.alpha = 2.5 + shift + 0.3 * i;
    l.alpha_weighted = l.alpha * 0.5;
    l.log_norm = 1 + 0.1 * i - shift;
    l.log_spectral_norm = 0.5 - shift;
    l.num_traps = i == 3 ? 2 : 0;
    m.report.layers.push_back(l);
  }
  m.report.layers.back().alpha = 7.5;  // under-trained
  m.report.summary = Summarize(m.report.layers);
  results::AddSummaryMetrics(m.report.summary, m);
  m.target = target;
  return m;
}

TEST(HtmlReportTest, OneModel) {
  ReportData data;
  data.models.push_back(Model("net", 0, 70));
  ReportOptions opt;
  opt.title = "T & T";
  std::ostringstream out;
  WriteHtmlReport(data, opt, out);
  const std::string html = out.str();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>T &amp; T</title>"), std::string::npos);
  EXPECT_NE(html.find("id=\"correlation_flow\""), std::string::npos);
  EXPECT_NE(html.find("id=\"log_spectral_norm_by_depth\""), std::string::npos);
  EXPECT_NE(html.find("id=\"alpha_weighted_by_depth\""), std::string::npos);
  EXPECT_NE(html.find("1 of 6 layers has alpha above 6 (layer 6)"), std::string::npos);
  EXPECT_NE(html.find("correlation traps (2 in total; layer 3)"), std::string::npos);
  EXPECT_NE(html.find("block1&lt;b&gt;"), std::string::npos);  // names are escaped
  EXPECT_EQ(html.find("block1<b>"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"sortable\">"), std::string::npos);
  EXPECT_NE(html.find("No eigenvalues to draw"), std::string::npos);
  // Self-contained: the only URL is the SVG namespace.
  size_t urls = 0, ns = 0;
  for (size_t p = html.find("http"); p != std::string::npos; p = html.find("http", p + 1)) ++urls;
  for (size_t p = html.find("http://www.w3.org/2000/svg"); p != std::string::npos;
       p = html.find("http://www.w3.org/2000/svg", p + 1)) {
    ++ns;
  }
  EXPECT_EQ(urls, ns);
  EXPECT_EQ(html.find("src="), std::string::npos);
}

TEST(HtmlReportTest, SeriesWithTrendsAndOverlays) {
  ReportData data;
  for (int i = 0; i < 4; ++i)
    data.models.push_back(Model("m" + std::to_string(i), 0.2 * i, 70 + i));
  data.trends = trends::AnalyzeTrends(data.models, {});
  const auto figs = BuildFigures(data, {});
  size_t depth = 0, trend = 0, hist = 0;
  for (const auto& f : figs) {
    depth += f.section == "depth";
    trend += f.section == "trend";
    hist += f.section == "hist";
    // Depth charts and histograms are small multiples: one panel per model.
    if (f.section == "depth" || f.section == "hist") {
      ASSERT_TRUE(f.grid.has_value()) << f.Id();
      EXPECT_EQ(f.grid->panels.size(), 4u) << f.Id();
    }
  }
  EXPECT_EQ(depth, 3u);  // one chart each, not one per model
  EXPECT_EQ(hist, 2u);   // alpha and log10 lambda_max
  EXPECT_EQ(trend, trends::DefaultTrendMetrics().size());
  std::ostringstream out;
  WriteHtmlReport(data, {}, out);
  const std::string html = out.str();
  EXPECT_NE(html.find("Trends across models"), std::string::npos);
  EXPECT_NE(html.find("id=\"trend_all_alpha_weighted\""), std::string::npos);
  EXPECT_NE(html.find("Scale collapse"), std::string::npos);
  EXPECT_NE(html.find("id=\"correlation_flow_m2_2\""), std::string::npos);  // m2's panel
  EXPECT_NE(html.find("id=\"hist_alpha\""), std::string::npos);
  for (int i = 0; i < 4; ++i)
    EXPECT_NE(html.find("id=\"model-m" + std::to_string(i) + "\""), std::string::npos);
}

}  // namespace
}  // namespace htsr::report
