// The command framework: every command and every option is declared once, in a table
// (cli/command_table.cc, cli/option_table.cc), each option marked with the commands that
// take it (the way llama.cpp's common/arg marks options with their examples). Parsing,
// --help, the positional count and --format are handled here for every command; a
// command's Run function receives the parsed arguments and writes its output.
#ifndef HTSR_CLIENT_CLI_COMMAND_H_
#define HTSR_CLIENT_CLI_COMMAND_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "htsr/base/arg_parser.h"

namespace htsr::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitLayersFailed = 1;
inline constexpr int kExitUsage = 2;

// One bit per command, for the option table's `commands` masks.
enum CommandBit : uint32_t {
  kAnalyze = 1u << 0,
  kDescribe = 1u << 1,
  kScan = 1u << 2,
  kCheck = 1u << 3,
  kExport = 1u << 4,
  kCompare = 1u << 5,
  kReport = 1u << 6,
  kRank = 1u << 7,
};

// An option and the commands that take it. Two entries may share a name if no command
// takes both (e.g. --out is a file for analyze, a file or directory for report).
struct OptionSpec {
  const char* name;        // without the leading "--"
  const char* value_name;  // "" for switches
  const char* help;
  const char* default_text;  // shown in --help; "" for none
  uint32_t commands;         // CommandBit mask
};
std::span<const OptionSpec> AllOptions();

// What a command's Run receives: its name (for messages), the parsed arguments, the
// chosen --format (or "" for commands without one), and where to write.
struct Invocation {
  std::string_view command;
  const ParsedArgs& args;
  std::string format;
  std::ostream& out;
  std::ostream& err;

  // "htsr COMMAND: message" on err; returns kExitUsage.
  int UsageError(absl::string_view message) const;
  // The command's answer: `write` fills a stream that is stdout, or, with --out FILE, a
  // buffer written to FILE atomically once complete (a failed command leaves no partial
  // file). Returns kExitOk, or kExitUsage with the error said.
  int WriteOutput(const std::function<absl::Status(std::ostream&)>& write) const;
};

struct CommandSpec {
  const char* name;
  CommandBit bit;
  const char* usage;                     // after "htsr NAME "
  const char* summary;                   // one line for 'htsr --help'
  const char* description;               // the body of 'htsr NAME --help'
  const char* positional;                // e.g. "PATH"; used in "no PATH given"
  int min_positionals, max_positionals;  // max -1: any number
  const char* formats;                   // "table|csv|json", first is the default; "" none
  int (*run)(const Invocation&);
};
std::span<const CommandSpec> AllCommands();

// The parser of one command: its options from the table, in table order.
ArgParser ParserFor(const CommandSpec& command);

// argv after the program name: dispatches to a command, or prints the overview.
int RunCommandLine(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The commands' bodies (cli/*_command.cc).
int RunAnalyze(const Invocation& inv);
int RunDescribe(const Invocation& inv);
int RunScan(const Invocation& inv);
int RunCheck(const Invocation& inv);
int RunExport(const Invocation& inv);
int RunCompare(const Invocation& inv);
int RunReport(const Invocation& inv);
int RunRank(const Invocation& inv);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_COMMAND_H_
