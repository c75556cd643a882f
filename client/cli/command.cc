#include "cli/command.h"

#include <algorithm>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "output/atomic_file.h"
#include "output/summary_fields.h"  // HTSR_VERSION_STRING

namespace htsr::cli {
namespace {

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : AllCommands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::string Overview() {
  std::string s =
      "usage: htsr COMMAND [options]\n"
      "\n"
      "Heavy-tailed self-regularization (HT-SR) metrics of pretrained networks, from the\n"
      "weights alone: no training or test data (Martin, Peng & Mahoney, Nat. Commun. 2021).\n"
      "\n"
      "commands:\n";
  // "analyze PATH...": the name and its usage up to the options.
  std::vector<std::string> left;
  size_t width = 0;
  for (const CommandSpec& c : AllCommands()) {
    const absl::string_view usage = c.usage;
    left.push_back(absl::StrCat(c.name, " ", usage.substr(0, usage.find(" ["))));
    width = std::max(width, left.back().size());
  }
  for (size_t i = 0; i < left.size(); ++i) {
    absl::StrAppend(&s, "  ", left[i], std::string(width + 2 - left[i].size(), ' '),
                    AllCommands()[i].summary, "\n");
  }
  absl::StrAppend(&s, "  version", std::string(width - 5, ' '), "print the version\n\n",
                  "'htsr COMMAND --help' explains each command's options.\n");
  return s;
}

// "table|csv|json" -> "table, csv or json".
std::string Alternatives(absl::string_view formats) {
  std::vector<std::string> v = absl::StrSplit(formats, '|');
  if (v.size() == 1) return v[0];
  std::string last = v.back();
  v.pop_back();
  return absl::StrCat(absl::StrJoin(v, ", "), " or ", last);
}

}  // namespace

int Invocation::UsageError(absl::string_view message) const {
  err << "htsr " << command << ": " << message << "\n";
  return kExitUsage;
}

int Invocation::WriteOutput(const std::function<absl::Status(std::ostream&)>& write) const {
  const std::optional<std::string> path = args.Get("out");
  std::ostringstream buffer;
  std::ostream& sink = path ? static_cast<std::ostream&>(buffer) : out;
  if (absl::Status s = write(sink); !s.ok()) return UsageError(s.message());
  sink.flush();
  if (!sink) return UsageError("writing the output failed");
  if (path) {
    if (absl::Status s = output::WriteFileAtomically(*path, buffer.str()); !s.ok()) {
      return UsageError(s.message());
    }
  }
  return kExitOk;
}

ArgParser ParserFor(const CommandSpec& command) {
  ArgParser p(absl::StrCat("htsr ", command.name), command.usage, command.description);
  if (*command.formats) {
    const std::string formats = command.formats;
    p.AddFlag({"format", formats, "output format", formats.substr(0, formats.find('|'))});
  }
  for (const OptionSpec& o : AllOptions()) {
    if (o.commands & command.bit) p.AddFlag({o.name, o.value_name, o.help, o.default_text});
  }
  return p;
}

int RunCommandLine(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    out << Overview();
    return argv.empty() ? kExitUsage : kExitOk;
  }
  if (argv[0] == "version" || argv[0] == "--version") {
    out << "htsr " << HTSR_VERSION_STRING << "\n";
    return kExitOk;
  }
  const CommandSpec* command = FindCommand(argv[0]);
  if (command == nullptr) {
    err << "htsr: unknown command '" << argv[0] << "'\n\n" << Overview();
    return kExitUsage;
  }
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  const ArgParser parser = ParserFor(*command);
  absl::StatusOr<ParsedArgs> args = parser.Parse(rest);
  std::string format;
  if (*command->formats) {
    const std::string_view formats = command->formats;
    format = std::string(formats.substr(0, formats.find('|')));
  }
  if (!args.ok()) {
    err << "htsr " << command->name << ": " << args.status().message() << "\n";
    return kExitUsage;
  }
  Invocation inv{command->name, *args, format, out, err};
  if (args->Has("help")) {
    out << parser.Help();
    return kExitOk;
  }
  const int n = static_cast<int>(args->positionals().size());
  if (n < command->min_positionals) {
    return inv.UsageError(
        absl::StrCat("no ", command->positional, " given (see 'htsr ", command->name, " --help')"));
  }
  if (command->max_positionals >= 0 && n > command->max_positionals) {
    return inv.UsageError(
        absl::StrCat("unexpected argument '", args->positionals()[command->max_positionals], "'"));
  }
  if (auto f = args->Get("format")) {
    const std::vector<std::string> allowed = absl::StrSplit(command->formats, '|');
    if (std::find(allowed.begin(), allowed.end(), *f) == allowed.end()) {
      return inv.UsageError(
          absl::StrCat("--format is ", Alternatives(command->formats), ", got '", *f, "'"));
    }
    inv.format = *f;
  }
  return command->run(inv);
}

}  // namespace htsr::cli
