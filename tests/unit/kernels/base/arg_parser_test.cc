// The one command-line parser: spellings, switches with values, numbers, errors.
#include "htsr/base/arg_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr {
namespace {

ArgParser Parser() {
  ArgParser p("prog sub", "[options]", "Test program.");
  p.AddFlag({"queue-bytes", "SIZE", "budget", "2G"});
  p.AddFlag({"log-calls", "", "log", "on"});
  p.AddFlag({"grace-seconds", "S", "grace", "30"});
  p.AddFlag({"xmax", "-K", "drop", ""});
  return p;
}

TEST(ArgParserTest, DashesAndUnderscoresAreOneOption) {
  auto a = Parser().Parse({"--queue_bytes=64M", "pos", "--grace-seconds", "2.5"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->GetOr("queue-bytes", ""), "64M");
  EXPECT_EQ(a->positionals(), std::vector<std::string>{"pos"});
  EXPECT_DOUBLE_EQ(*a->GetDouble("grace-seconds", 30, 0, 100), 2.5);
}

TEST(ArgParserTest, SwitchesTakeTrueOrFalse) {
  auto off = Parser().Parse({"--log-calls=false"});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->Has("log-calls"));
  EXPECT_FALSE(off->GetSwitch("log-calls", true));
  auto on = Parser().Parse({"--log_calls"});
  EXPECT_TRUE(on->GetSwitch("log-calls", false));
  auto none = Parser().Parse({});
  EXPECT_TRUE(none->GetSwitch("log-calls", true));
  auto bad = Parser().Parse({"--log-calls=maybe"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--log-calls is a switch"), std::string::npos);
}

TEST(ArgParserTest, ValuesMayLookLikeOptions) {
  auto a = Parser().Parse({"--xmax", "-3"});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a->GetInt("xmax", 0, -10, 0), -3);
}

TEST(ArgParserTest, ErrorsNameTheProgramAndOption) {
  auto unknown = Parser().Parse({"--nope"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown option --nope for 'prog sub' (see 'prog sub --help')");
  auto missing = Parser().Parse({"--grace-seconds"});
  EXPECT_EQ(missing.status().message(), "--grace-seconds needs a value (S)");
  auto a = Parser().Parse({"--grace-seconds=inf"});
  EXPECT_FALSE(a->GetDouble("grace-seconds", 30, 0, 100).ok());
  auto b = Parser().Parse({"--grace-seconds=101"});
  EXPECT_FALSE(b->GetDouble("grace-seconds", 30, 0, 100).ok());
  auto c = Parser().Parse({"--queue-bytes=x"});
  EXPECT_FALSE(c->GetInt("queue-bytes", 0, 0, 10).ok());
}

TEST(ArgParserTest, HelpListsOptionsWithDefaults) {
  const std::string h = Parser().Help();
  EXPECT_NE(h.find("usage: prog sub [options]"), std::string::npos);
  EXPECT_NE(h.find("--queue-bytes SIZE"), std::string::npos);
  EXPECT_NE(h.find("(default: 2G)"), std::string::npos);
}

}  // namespace
}  // namespace htsr
