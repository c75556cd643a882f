// The command framework: the tables are consistent, and parsing, --help, positional counts
// and --format are handled the same way for every command.
#include "cli/command.h"

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr::cli {
namespace {

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Call(std::vector<std::string> argv) {
  std::ostringstream out, err;
  const int code = RunCommandLine(argv, out, err);
  return {code, out.str(), err.str()};
}

TEST(CommandTableTest, EveryOptionBelongsToACommandAndNoCommandSeesANameTwice) {
  uint32_t all = 0;
  for (const CommandSpec& c : AllCommands()) all |= c.bit;
  for (const OptionSpec& o : AllOptions()) {
    EXPECT_NE(o.commands, 0u) << o.name;
    EXPECT_EQ(o.commands & ~all, 0u) << o.name << " names an unknown command";
  }
  for (const CommandSpec& c : AllCommands()) {
    std::set<std::string> names{"help"};
    if (*c.formats) names.insert("format");
    for (const OptionSpec& o : AllOptions()) {
      if (!(o.commands & c.bit)) continue;
      EXPECT_TRUE(names.insert(o.name).second) << c.name << " takes --" << o.name << " twice";
    }
  }
}

TEST(CommandTableTest, OverviewListsEveryCommand) {
  const Outcome r = Call({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const CommandSpec& c : AllCommands()) {
    EXPECT_NE(r.out.find(std::string("  ") + c.name + " "), std::string::npos) << c.name;
  }
  EXPECT_EQ(Call({}).code, kExitUsage);
  const Outcome unknown = Call({"analyse"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_NE(unknown.err.find("unknown command 'analyse'"), std::string::npos);
}

TEST(CommandTableTest, HelpShowsTheCommandsOwnOptionsOnly) {
  const Outcome analyze = Call({"analyze", "--help"});
  EXPECT_EQ(analyze.code, kExitOk);
  EXPECT_NE(analyze.out.find("usage: htsr analyze PATH..."), std::string::npos);
  EXPECT_NE(analyze.out.find("--format table|csv|json"), std::string::npos);
  EXPECT_NE(analyze.out.find("--server ADDR"), std::string::npos);
  EXPECT_EQ(analyze.out.find("--accuracy"), std::string::npos);
  const Outcome describe = Call({"describe", "-h"});
  EXPECT_NE(describe.out.find("--layers SPEC"), std::string::npos);
  EXPECT_EQ(describe.out.find("--mp-fit"), std::string::npos);
  const Outcome report = Call({"report", "--help"});
  EXPECT_NE(report.out.find("--out FILE|DIR"), std::string::npos);
  EXPECT_NE(report.out.find("--accuracy FILE"), std::string::npos);
}

TEST(CommandFrameworkTest, UsageErrorsAreTheSameForEveryCommand) {
  struct Case {
    std::vector<std::string> argv;
    std::string message;
  };
  const Case cases[] = {
      {{"analyze"}, "htsr analyze: no PATH given (see 'htsr analyze --help')"},
      {{"check"}, "htsr check: no MODEL given"},
      {{"report"}, "htsr report: no MODEL or RESULTS given"},
      {{"export", "extra"}, "htsr export: unexpected argument 'extra'"},
      {{"analyze", "m", "--format", "xml"}, "--format is table, csv or json, got 'xml'"},
      {{"check", "m", "--format=csv"}, "--format is text or json, got 'csv'"},
      {{"export", "--format", "table"}, "--format is csv or json, got 'table'"},
      {{"describe", "m", "--mp-fit"}, "unknown option --mp-fit for 'htsr describe'"},
      {{"compare", "f", "--layers"}, "unknown option --layers for 'htsr compare'"},
      {{"analyze", "m", "--layers"}, "--layers needs a value (SPEC)"},
      {{"analyze", "m", "--quiet=yes"}, "--quiet is a switch: it takes no value"},
  };
  for (const Case& c : cases) {
    const Outcome r = Call(c.argv);
    EXPECT_EQ(r.code, kExitUsage) << c.argv[0];
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  }
}

TEST(CommandFrameworkTest, RunReceivesTheChosenFormat) {
  // describe reads no weights: an unreadable path is reported in the chosen format's run.
  const Outcome r = Call({"describe", "/nonexistent/model.safetensors", "--format", "json"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_NE(r.out.find("{\"models\": ["), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("/nonexistent/model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace htsr::cli
