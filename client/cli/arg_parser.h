// A small command-line parser for subcommands: --flag, --flag=value, --flag value,
// repeated positionals, and generated --help text. Errors are usage errors (exit 2).
#ifndef HTSR_CLIENT_CLI_ARG_PARSER_H_
#define HTSR_CLIENT_CLI_ARG_PARSER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace htsr::cli {

struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // empty for boolean flags
  std::string help;
  std::string default_text;  // shown in --help; empty for none
};

class ParsedArgs {
 public:
  bool Has(std::string_view flag) const;
  std::optional<std::string> Get(std::string_view flag) const;
  std::string GetOr(std::string_view flag, std::string_view fallback) const;
  // Integer flag, range-checked; InvalidArgument naming the flag otherwise.
  absl::StatusOr<int64_t> GetInt(std::string_view flag, int64_t fallback, int64_t min,
                                 int64_t max) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend class ArgParser;
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> positionals_;
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string usage, std::string description);
  void AddFlag(FlagSpec spec);
  // Parses argv after the subcommand. "--help"/"-h" yields a parse with Has("help").
  absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) const;
  std::string Help() const;

 private:
  const FlagSpec* Find(std::string_view name) const;
  std::string command_, usage_, description_;
  std::vector<FlagSpec> flags_;
};

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_ARG_PARSER_H_
