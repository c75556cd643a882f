#include "htsr/base/arg_parser.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace htsr {
namespace {

// The documented spelling uses dashes; underscores are accepted so that scripts written
// for either spelling keep working.
std::string Canonical(std::string_view name) {
  std::string s(name);
  for (char& c : s) {
    if (c == '_') c = '-';
  }
  return s;
}

}  // namespace

bool ParsedArgs::Has(std::string_view flag) const {
  if (auto it = switches_.find(flag); it != switches_.end()) return it->second;
  return values_.find(flag) != values_.end();
}

bool ParsedArgs::GetSwitch(std::string_view flag, bool fallback) const {
  auto it = switches_.find(flag);
  return it == switches_.end() ? fallback : it->second;
}

std::optional<std::string> ParsedArgs::Get(std::string_view flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArgs::GetOr(std::string_view flag, std::string_view fallback) const {
  auto v = Get(flag);
  return v ? *v : std::string(fallback);
}

absl::StatusOr<int64_t> ParsedArgs::GetInt(std::string_view flag, int64_t fallback, int64_t min,
                                           int64_t max) const {
  auto v = Get(flag);
  if (!v) return fallback;
  int64_t out = 0;
  const char* end = v->data() + v->size();
  auto [ptr, ec] = std::from_chars(v->data(), end, out);
  if (ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), " expects an integer, got '", *v, "'"));
  }
  if (out < min || out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), " must be in [", min, ", ", max, "], got ", out));
  }
  return out;
}

absl::StatusOr<double> ParsedArgs::GetDouble(std::string_view flag, double fallback, double min,
                                             double max) const {
  auto v = Get(flag);
  if (!v) return fallback;
  double out = 0;
  if (!absl::SimpleAtod(*v, &out) || !std::isfinite(out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), " expects a number, got '", *v, "'"));
  }
  if (out < min || out > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", std::string(flag), " must be in [", min, ", ", max, "], got ", *v));
  }
  return out;
}

ArgParser::ArgParser(std::string program, std::string usage, std::string description)
    : program_(std::move(program)), usage_(std::move(usage)), description_(std::move(description)) {
  AddFlag({"help", "", "show this help and exit", ""});
}

void ArgParser::AddFlag(FlagSpec spec) { flags_.push_back(std::move(spec)); }

const FlagSpec* ArgParser::Find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::StatusOr<ParsedArgs> ArgParser::Parse(const std::vector<std::string>& args) const {
  ParsedArgs out;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positionals || a.size() < 2 || a[0] != '-' ||
        (a.size() > 1 && a[1] != '-' && a != "-h")) {
      // "-3" style values only appear after a flag that takes a value (handled below).
      out.positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    if (a == "-h") {
      out.switches_["help"] = true;
      continue;
    }
    std::string_view body = std::string_view(a).substr(2);
    const size_t eq = body.find('=');
    const std::string name = Canonical(body.substr(0, eq));
    const FlagSpec* spec = Find(name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option --", name, " for '", program_,
                                                     "' (see '", program_, " --help')"));
    }
    if (spec->value_name.empty()) {
      bool on = true;
      if (eq != std::string_view::npos) {
        const std::string_view v = body.substr(eq + 1);
        if (v == "true" || v == "1") {
          on = true;
        } else if (v == "false" || v == "0") {
          on = false;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " is a switch: it takes no value (or =true, =false)"));
        }
      }
      out.switches_[name] = on;
    } else if (eq != std::string_view::npos) {
      out.values_[name] = std::string(body.substr(eq + 1));
    } else {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", spec->value_name, ")"));
      }
      out.values_[name] = args[++i];
    }
  }
  return out;
}

std::string ArgParser::Help() const {
  std::string s = absl::StrCat("usage: ", program_, " ", usage_, "\n\n", description_, "\n");
  if (flags_.size() > 1) s += "\noptions:\n";
  for (const auto& f : flags_) {
    std::string left = absl::StrCat("  --", f.name);
    if (!f.value_name.empty()) absl::StrAppend(&left, " ", f.value_name);
    std::string help = f.help;
    if (!f.default_text.empty()) absl::StrAppend(&help, " (default: ", f.default_text, ")");
    if (left.size() < 26) {
      absl::StrAppend(&s, absl::StrFormat("%-26s%s\n", left, help));
    } else {
      absl::StrAppend(&s, left, "\n", std::string(26, ' '), help, "\n");
    }
  }
  return s;
}

}  // namespace htsr
