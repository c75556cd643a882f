#include "policy/policy.h"

#include <gtest/gtest.h>

namespace htsr::policy {
namespace {

TEST(PolicyParserTest, YamlSubset) {
  const std::string text =
      "# registry gate\n"
      "---\n"
      "max_alpha: 6      # under-trained above\n"
      "min-alpha: 2.5\n"
      "max_failed_layers: 0\n"
      "ignore_layers:\n"
      "  - embed\n"
      "  - \"lm_head*\"\n"
      "max_mean_alpha: '5'\n";
  auto p = ParsePolicy(text, "gate.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_alpha, 6.0);
  EXPECT_EQ(p->min_alpha, 2.5);
  EXPECT_EQ(p->max_failed_layers, 0);
  EXPECT_EQ(p->max_mean_alpha, 5.0);
  EXPECT_EQ(p->ignore_layers, (std::vector<std::string>{"embed", "lm_head*"}));
  EXPECT_FALSE(p->min_mean_alpha.has_value());
}

TEST(PolicyParserTest, YamlFlowList) {
  auto p = ParsePolicy("ignore_layers: [a, 'b c', \"d\"]\n", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->ignore_layers, (std::vector<std::string>{"a", "b c", "d"}));
}

TEST(PolicyParserTest, Json) {
  auto p = ParsePolicy(R"({"max_alpha": 6, "min_analyzed_layers": 3, "ignore_layers": ["x"],
                           "min_alpha": null})",
                       "p.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_alpha, 6.0);
  EXPECT_EQ(p->min_analyzed_layers, 3);
  EXPECT_EQ(p->ignore_layers, (std::vector<std::string>{"x"}));
  EXPECT_FALSE(p->min_alpha.has_value());
}

TEST(PolicyParserTest, ErrorsNameTheFileLineAndKey) {
  auto typo = ParsePolicy("max_alpah: 6\n", "gate.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("gate.yaml:1"), std::string::npos) << typo.status();
  EXPECT_NE(typo.status().message().find("max_alpah"), std::string::npos);

  auto nested = ParsePolicy("rules:\n  max_alpha: 6\n", "gate.yaml");
  EXPECT_FALSE(nested.ok());
  EXPECT_FALSE(ParsePolicy("max_alpha: six\n", "p").ok());
  EXPECT_FALSE(ParsePolicy("max_failed_layers: -1\n", "p").ok());
  EXPECT_FALSE(ParsePolicy("max_failed_layers: 1.5\n", "p").ok());
  EXPECT_FALSE(ParsePolicy("max_alpha: [1, 2]\n", "p").ok());
  EXPECT_FALSE(ParsePolicy("- orphan\n", "p").ok());
  EXPECT_FALSE(ParsePolicy(R"({"max_alpha": true})", "p.json").ok());
  EXPECT_FALSE(ParsePolicy(R"({"max_alpha": 6)", "p.json").ok());
  EXPECT_FALSE(ReadPolicyFile("/nonexistent/policy.yaml").ok());
}

TEST(PolicyParserTest, EmptyPolicyHasNoRules) {
  auto p = ParsePolicy("# nothing\n", "p.yaml");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->max_alpha.has_value());
  EXPECT_TRUE(p->ignore_layers.empty());
}

}  // namespace
}  // namespace htsr::policy
