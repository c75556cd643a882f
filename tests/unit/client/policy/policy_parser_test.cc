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
                           "max_mean_alpha": 5})",
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

// Fail closed: a gate file that sets no rule is an error, not a gate that passes all.
TEST(PolicyParserTest, EmptyOrCommentOnlyPolicyIsAnError) {
  for (const char* text : {"", "\n\n", "# nothing\n", "---\n# only comments\n  \n", "{}"}) {
    auto p = ParsePolicy(text, "gate.yaml");
    ASSERT_FALSE(p.ok()) << "'" << text << "' was accepted";
    EXPECT_NE(p.status().message().find("gate.yaml"), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("no rule"), std::string::npos) << p.status();
  }
}

TEST(PolicyParserTest, DuplicateKeysAreAnError) {
  auto p = ParsePolicy("max_alpha: 6\nmin_alpha: 2\nmax_alpha: 60\n", "gate.yaml");
  ASSERT_FALSE(p.ok()) << "last wins: max_alpha " << *p->max_alpha;
  EXPECT_NE(p.status().message().find("gate.yaml:3"), std::string::npos) << p.status();
  EXPECT_NE(p.status().message().find("duplicate key 'max_alpha'"), std::string::npos);
  EXPECT_NE(p.status().message().find("line 1"), std::string::npos);
  // The flag spelling and the file spelling are one key.
  EXPECT_FALSE(ParsePolicy("max-alpha: 6\nmax_alpha: 7\n", "p.yaml").ok());
  EXPECT_FALSE(ParsePolicy("ignore_layers: [a]\nignore_layers:\n  - b\n", "p.yaml").ok());
  EXPECT_FALSE(ParsePolicy(R"({"max_alpha": 6, "max-alpha": 7})", "p.json").ok());
  EXPECT_FALSE(ParsePolicy(R"({"max_alpha": 6, "max_alpha": 7})", "p.json").ok());
}

TEST(PolicyParserTest, NonFiniteOrNullThresholdsAreErrors) {
  for (const char* v : {"null", "~", "inf", "-inf", "Infinity", "3e999", "-3e999", "nan", "NaN"}) {
    const std::string text = std::string("min_alpha: 2\nmax_alpha: ") + v + "\n";
    auto p = ParsePolicy(text, "gate.yaml");
    ASSERT_FALSE(p.ok()) << v << " accepted as a limit";
    EXPECT_NE(p.status().message().find("gate.yaml:2"), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("max_alpha"), std::string::npos) << p.status();
  }
  for (const char* v : {"null", "3e999", "\"inf\"", "\"nan\""}) {
    const std::string text = std::string("{\"min_alpha\": 2,\n \"max_alpha\": ") + v + "}";
    auto p = ParsePolicy(text, "gate.json");
    ASSERT_FALSE(p.ok()) << v << " accepted as a JSON limit";
    EXPECT_NE(p.status().message().find("gate.json:2"), std::string::npos) << p.status();
    EXPECT_NE(p.status().message().find("max_alpha"), std::string::npos) << p.status();
  }
  // Flags go through the same check.
  Policy p;
  EXPECT_FALSE(SetPolicyValue(p, "max-alpha", {"inf"}, false).ok());
  EXPECT_FALSE(SetPolicyValue(p, "max_mean_alpha", {"1e400"}, false).ok());
  EXPECT_TRUE(SetPolicyValue(p, "max_alpha", {"6"}, false).ok());
}

}  // namespace
}  // namespace htsr::policy
