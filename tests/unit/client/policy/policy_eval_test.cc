#include "policy/policy_eval.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace htsr::policy {
namespace {

LayerResult Layer(int id, const std::string& name, double alpha,
                  LayerStatus status = LayerStatus::kSuccess) {
  LayerResult r;
  r.plan.layer_id = id;
  r.plan.name = name;
  r.status = status;
  r.alpha = alpha;
  r.log_spectral_norm = alpha / 2;
  if (status == LayerStatus::kFailed) r.reason = "eigensolver did not converge";
  if (status == LayerStatus::kSuccess && alpha > 6) r.warning = LayerWarning::kUnderTrained;
  if (status == LayerStatus::kSuccess && alpha < 2) r.warning = LayerWarning::kOverTrained;
  return r;
}

model::ModelReport Model(std::vector<LayerResult> layers) {
  model::ModelReport m;
  m.path = "m.safetensors";
  m.layers = std::move(layers);
  m.summary = Summarize(m.layers);
  return m;
}

TEST(PolicyEvalTest, PassingModelHasNoViolations) {
  Policy p;
  p.max_alpha = 6;
  p.min_alpha = 2;
  p.max_failed_layers = 0;
  p.min_analyzed_layers = 2;
  EXPECT_TRUE(Evaluate(p, Model({Layer(1, "a", 3), Layer(2, "b", 4)})).empty());
}

TEST(PolicyEvalTest, OneViolationPerRuleWorstLayerFirst) {
  Policy p;
  p.max_alpha = 6;
  p.min_alpha = 2;
  p.max_failed_layers = 0;
  p.max_under_trained_layers = 1;
  const auto v = Evaluate(p, Model({Layer(1, "a", 7), Layer(2, "b", 9.5), Layer(3, "c", 1.5),
                                    Layer(4, "d", 0, LayerStatus::kFailed), Layer(5, "e", 3)}));
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].rule, "max_alpha");
  EXPECT_EQ(v[0].value, 9.5);
  EXPECT_EQ(v[0].message,
            "max_alpha 6: 2 layers above: layer 2 'b' alpha 9.5, layer 1 'a' alpha 7");
  EXPECT_EQ(v[1].rule, "min_alpha");
  EXPECT_EQ(v[1].message, "min_alpha 2: 1 layer below: layer 3 'c' alpha 1.5");
  EXPECT_EQ(v[2].rule, "max_failed_layers");
  EXPECT_EQ(v[2].message,
            "max_failed_layers 0: 1 failed: layer 4 'd' (eigensolver did not converge)");
  EXPECT_EQ(v[3].rule, "max_under_trained_layers");
  EXPECT_EQ(v[3].value, 2);
}

TEST(PolicyEvalTest, MeansAndCounts) {
  Policy p;
  p.max_mean_alpha = 4;
  p.min_mean_alpha = 1;
  p.min_analyzed_layers = 3;
  const auto v = Evaluate(p, Model({Layer(1, "a", 3), Layer(2, "b", 6)}));
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].rule, "min_analyzed_layers");
  EXPECT_EQ(v[0].message, "min_analyzed_layers 3: only 2 layers analysed");
  EXPECT_EQ(v[1].rule, "max_mean_alpha");
  EXPECT_EQ(v[1].value, 4.5);
  EXPECT_EQ(v[1].message, "max_mean_alpha 4: mean alpha 4.5 over 2 layers");
}

TEST(PolicyEvalTest, IgnoredLayersAreExempt) {
  Policy p;
  p.max_alpha = 6;
  p.ignore_layers = {"embed", "lm_head*"};
  EXPECT_TRUE(Evaluate(p, Model({Layer(1, "model.embed_tokens", 12), Layer(2, "lm_head", 8),
                                 Layer(3, "x.lm_head", 3)}))
                  .empty());
  EXPECT_TRUE(IsIgnored(p, "lm_head.weight"));
  EXPECT_FALSE(IsIgnored(p, "x.lm_head"));  // a glob matches the whole name
  EXPECT_EQ(Evaluate(p, Model({Layer(1, "fc", 12)})).size(), 1u);
}

TEST(PolicyEvalTest, ManyOffendersAreCounted) {
  Policy p;
  p.max_alpha = 1;
  std::vector<LayerResult> layers;
  for (int i = 1; i <= 6; ++i) layers.push_back(Layer(i, absl::StrCat("l", i), 1 + i));
  const auto v = Evaluate(p, Model(layers));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("6 layers above"), std::string::npos);
  EXPECT_NE(v[0].message.find("(and 3 more)"), std::string::npos) << v[0].message;
}

// Fail closed: a model in which no layer was analysed passes no policy by default.
TEST(PolicyEvalTest, ModelWhoseOnlyLayerFailedFailsMaxAlpha) {
  Policy p;
  p.max_alpha = 6;
  const auto v = Evaluate(p, Model({Layer(1, "a", -1, LayerStatus::kFailed)}));
  ASSERT_EQ(v.size(), 1u) << "passed with 0 layers analysed";
  EXPECT_EQ(v[0].rule, "min_analyzed_layers");
  EXPECT_NE(v[0].message.find("no layer analysed"), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message.find("1 failed"), std::string::npos) << v[0].message;
  EXPECT_NE(v[0].message.find("eigensolver did not converge"), std::string::npos);
}

TEST(PolicyEvalTest, EmptyModelsFailUnlessAllowed) {
  Policy p;
  p.max_mean_alpha = 5;
  // No layer at all, only skipped layers, or every layer ignored: nothing was checked.
  EXPECT_EQ(Evaluate(p, Model({})).size(), 1u);
  EXPECT_NE(Evaluate(p, Model({})).front().message.find("no layer to analyse"), std::string::npos);
  EXPECT_EQ(Evaluate(p, Model({Layer(1, "a", 0, LayerStatus::kSkipped)})).size(), 1u);
  Policy ignoring = p;
  ignoring.ignore_layers = {"a"};
  const auto v = Evaluate(ignoring, Model({Layer(1, "a", 3)}));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("ignored"), std::string::npos) << v[0].message;
  // min_analyzed_layers: 0 says empty models are fine.
  p.min_analyzed_layers = 0;
  EXPECT_TRUE(Evaluate(p, Model({Layer(1, "a", -1, LayerStatus::kFailed)})).empty());
}

}  // namespace
}  // namespace htsr::policy
