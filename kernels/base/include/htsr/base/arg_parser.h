// The one command-line parser of the project (htsr's commands and htsr-server): --flag,
// --flag=value, --flag value, repeated positionals, and generated --help text. Option names
// may be spelled with dashes or underscores (--queue-bytes = --queue_bytes); a switch also
// takes =true/=false (--log-calls=false). Errors are usage errors (exit 2).
#ifndef HTSR_BASE_ARG_PARSER_H_
#define HTSR_BASE_ARG_PARSER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace htsr {

struct FlagSpec {
  std::string name;        // without the leading "--", with dashes
  std::string value_name;  // empty for switches
  std::string help;
  std::string default_text;  // shown in --help; empty for none
};

class ParsedArgs {
 public:
  // A switch that was given (and not as =false), or an option with a value.
  bool Has(std::string_view flag) const;
  std::optional<std::string> Get(std::string_view flag) const;
  std::string GetOr(std::string_view flag, std::string_view fallback) const;
  // Integer option, range-checked; InvalidArgument naming the option otherwise.
  absl::StatusOr<int64_t> GetInt(std::string_view flag, int64_t fallback, int64_t min,
                                 int64_t max) const;
  // Finite number in [min, max]; InvalidArgument naming the option otherwise.
  absl::StatusOr<double> GetDouble(std::string_view flag, double fallback, double min,
                                   double max) const;
  // A switch's value: true when given (or =true), false when =false, else `fallback`.
  bool GetSwitch(std::string_view flag, bool fallback) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  friend class ArgParser;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, bool, std::less<>> switches_;
  std::vector<std::string> positionals_;
};

class ArgParser {
 public:
  // `program` names the command in usage and messages ("htsr analyze", "htsr-server").
  ArgParser(std::string program, std::string usage, std::string description);
  void AddFlag(FlagSpec spec);
  // Parses argv after the program (and command). "--help"/"-h" yields Has("help").
  absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args) const;
  std::string Help() const;

 private:
  const FlagSpec* Find(std::string_view name) const;
  std::string program_, usage_, description_;
  std::vector<FlagSpec> flags_;
};

}  // namespace htsr

#endif  // HTSR_BASE_ARG_PARSER_H_
