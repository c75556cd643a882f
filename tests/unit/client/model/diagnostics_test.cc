// Diagnostics the paper names, on hand-made layers and summaries.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/diagnostics.h"

namespace htsr::trends {
namespace {

LayerResult Layer(int id, double alpha, LayerStatus st = LayerStatus::kSuccess) {
  LayerResult r;
  r.plan.layer_id = id;
  r.plan.N = r.plan.M = r.plan.num_evals = 100;
  r.plan.rf = 1;
  r.alpha = alpha;
  r.status = st;
  return r;
}

TEST(DiagnoseLayersTest, CountsBandsAndTraps) {
  std::vector<LayerResult> l = {Layer(1, 1.5),
                                Layer(2, 3.0),
                                Layer(3, 6.5),
                                Layer(4, 8.0),
                                Layer(5, -1, LayerStatus::kFailed),
                                Layer(6, 9, LayerStatus::kSkipped)};
  model::ModelDiagnostics d = model::DiagnoseLayers(l);
  EXPECT_EQ(d.analysed, 4);
  EXPECT_EQ(d.failed, 1);
  EXPECT_EQ(d.under_trained, (std::vector<int>{3, 4}));
  EXPECT_EQ(d.over_trained, (std::vector<int>{1}));
  EXPECT_DOUBLE_EQ(d.mean_alpha, (1.5 + 3 + 6.5 + 8) / 4);
  EXPECT_FALSE(d.traps_checked);
  const auto w = model::DiagnosticWarnings(d);
  ASSERT_EQ(w.size(), 3u);  // under, over, failed (mean 4.75 is inside the band)
  EXPECT_NE(w[0].find("2 of 4 layers have alpha above 6 (layers 3, 4)"), std::string::npos) << w[0];

  l[1].num_traps = 0;
  l[2].num_traps = 3;
  l[3].rand_num_spikes = 1;
  d = model::DiagnoseLayers(l);
  EXPECT_TRUE(d.traps_checked);
  EXPECT_EQ(d.trap_layers, (std::vector<int>{3, 4}));
  EXPECT_EQ(d.total_traps, 4);
  EXPECT_NE(model::DiagnosticWarnings(d).back().find("correlation traps (4 in total"),
            std::string::npos);
}

// Issue 11 item 5: trap and "poorly trained" notes only from fits that mean something.
TEST(DiagnoseLayersTest, DegenerateMpFitsGiveNoTrapVerdict) {
  std::vector<LayerResult> l = {Layer(1, 3.0), Layer(2, 3.5), Layer(3, 4.0), Layer(4, 3.2),
                                Layer(5, 3.1)};
  // A 1024 x 1 matrix: one eigenvalue, its "spike" count says nothing.
  l[0].plan.N = 1024;
  l[0].plan.M = 1;
  l[0].plan.num_evals = 1;
  l[0].rand_num_spikes = 1;
  // 3968 of 8192 eigenvalues outside the bulk: the fit found no bulk.
  l[1].plan.num_evals = 8192;
  l[1].num_traps = 3968;
  // A real trap: 2 of 100 eigenvalues.
  l[2].num_traps = 2;
  l[3].num_traps = 0;
  const model::ModelDiagnostics d = model::DiagnoseLayers(l);
  EXPECT_TRUE(d.traps_checked);
  EXPECT_EQ(d.trap_layers, (std::vector<int>{3}));
  EXPECT_EQ(d.total_traps, 2);
  EXPECT_EQ(d.trap_no_verdict, (std::vector<int>{1, 2}));
  const auto w = model::DiagnosticWarnings(d);
  bool one_trap = false, no_verdict = false;
  for (const std::string& s : w) {
    one_trap |=
        s.find("1 layer contains correlation traps (2 in total; layer 3)") != std::string::npos;
    no_verdict |=
        s.find("No correlation-trap verdict for 2 layers (layers 1, 2)") != std::string::npos;
    EXPECT_EQ(s.find("4099"), std::string::npos) << s;
    EXPECT_EQ(s.find("poorly trained"), std::string::npos) << s;
  }
  EXPECT_TRUE(one_trap);
  EXPECT_TRUE(no_verdict);
}

TEST(DiagnoseLayersTest, OneExtremeLayerDoesNotMakeTheModelPoorlyTrained) {
  // Mean alpha 10.4 from one degenerate fit; the other layers are fine.
  model::ModelDiagnostics d =
      model::DiagnoseLayers({Layer(1, 40), Layer(2, 3), Layer(3, 3), Layer(4, 3), Layer(5, 3)});
  EXPECT_GT(d.mean_alpha, 6);
  EXPECT_FALSE(d.poorly_trained);
  for (const std::string& s : model::DiagnosticWarnings(d))
    EXPECT_EQ(s.find("poorly trained"), std::string::npos) << s;
  // Most layers under-trained: the verdict stands.
  d = model::DiagnoseLayers({Layer(1, 7), Layer(2, 8), Layer(3, 6.5), Layer(4, 3)});
  EXPECT_TRUE(d.poorly_trained);
  EXPECT_NE(model::DiagnosticWarnings(d).back().find("3 of 4 layers are under-trained"),
            std::string::npos);
}

model::ModelRecord Rec(const std::string& name, double ln, double lsn, double alpha, int layers) {
  model::ModelRecord r;
  r.name = name;
  r.metrics = {{"log_norm", ln}, {"log_spectral_norm", lsn}, {"alpha", alpha}};
  r.has_layers = true;
  r.source = name + ".csv";
  for (int i = 0; i < layers; ++i) {
    LayerResult l;
    l.plan.layer_id = i + 1;
    l.plan.N = 64;
    l.plan.M = 32;
    l.status = LayerStatus::kSuccess;
    r.report.layers.push_back(l);
  }
  r.report.summary.num_analyzed = layers;
  return r;
}

TEST(ScaleCollapseTest, NormsFallWhileAlphaDoesNot) {
  const model::ModelRecord base = Rec("base", 2.0, 1.5, 3.0, 10);
  auto c = model::CompareScale(Rec("distilled", 1.8, 1.2, 3.4, 10), base);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->collapsed);
  EXPECT_NEAR(c->d_log_spectral_norm, -0.3, 1e-12);
  // Alpha falls with the norms: the model is simply better correlated, not collapsed.
  EXPECT_FALSE(model::CompareScale(Rec("better", 1.8, 1.2, 2.8, 10), base)->collapsed);
  // Only one norm falls.
  EXPECT_FALSE(model::CompareScale(Rec("half", 1.8, 1.6, 3.4, 10), base)->collapsed);
  model::ModelRecord no_alpha;
  no_alpha.metrics = {{"log_norm", 1}};
  EXPECT_FALSE(model::CompareScale(no_alpha, base).has_value());
}

TEST(ScaleCollapseTest, OnlyComparablePairs) {
  std::vector<model::ModelRecord> recs = {Rec("base", 2.0, 1.5, 3.0, 10),
                                          Rec("small", 1.8, 1.2, 3.4, 10),
                                          Rec("other_arch", 1.0, 0.5, 3.5, 30)};
  auto found = model::FindScaleCollapse(recs, /*target_is_error=*/true);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].model, "small");
  EXPECT_EQ(found[0].reference, "base");
  // With accuracies, a different architecture is compared only within one series (when
  // it is the worse model); across series or without one, never.
  recs[0].target = 20;
  recs[2].target = 25;
  found = model::FindScaleCollapse(recs, true);
  ASSERT_EQ(found.size(), 1u);
  for (auto& r : recs) r.series = "S";
  recs[2].series = "T";
  EXPECT_EQ(model::FindScaleCollapse(recs, true).size(), 1u);
  recs[2].series = "S";
  found = model::FindScaleCollapse(recs, true);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[1].model, "other_arch");
  EXPECT_NE(
      model::DescribeScaleCollapse(found[1]).find("other_arch shows scale collapse against base"),
      std::string::npos);
}

TEST(ScaleCollapseTest, NeverAgainstItselfOrAnEmptyModel) {
  // Two copies of one input (a model listed in two series) and an empty model.
  model::ModelRecord a = Rec("m", 2.0, 1.5, 3.0, 4);
  model::ModelRecord copy = Rec("m", 1.8, 1.2, 3.4, 4);
  copy.source = a.source;
  model::ModelRecord empty = Rec("e", 2.5, 2.0, 3.0, 0);
  EXPECT_TRUE(empty.IsEmpty());
  EXPECT_TRUE(model::FindScaleCollapse({a, copy, empty}, true).empty());
  // The same stem from two directories: two models, compared as such.
  copy.source = "other/m.csv";
  EXPECT_EQ(model::FindScaleCollapse({a, copy}, true).size(), 1u);
}

}  // namespace
}  // namespace htsr::trends
