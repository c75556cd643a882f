// Policy files: JSON or a flat YAML subset, both read into the same key -> values form.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "htsr/status_macros.h"
#include "policy/policy.h"
#include "readers/json_parser.h"

namespace htsr::policy {
namespace {

constexpr size_t kMaxPolicyBytes = size_t{1} << 20;

absl::StatusOr<double> ParseDouble(const std::string& key, const std::string& v) {
  double d;
  // A limit of null, inf, nan or 3e999 (which reads as inf) checks nothing: an error, not a
  // gate that passes everything.
  if (!absl::SimpleAtod(v, &d) || !std::isfinite(d)) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": expects a finite number, got '", v, "'"));
  }
  return d;
}

std::string NormalKey(std::string key) {
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

// The 1-based line of the first `"key"` in `text` (JSON errors name a line too).
int LineOf(const std::string& text, const std::string& key) {
  const size_t at = text.find(absl::StrCat("\"", key, "\""));
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

absl::StatusOr<int64_t> ParseCount(const std::string& key, const std::string& v) {
  int64_t n;
  if (!absl::SimpleAtoi(v, &n) || n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": expects a non-negative integer, got '", v, "'"));
  }
  return n;
}

std::string Unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

// Drops a " #" comment outside quotes.
std::string StripComment(const std::string& line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

absl::Status ParseYaml(const std::string& text, const std::string& name, Policy& policy,
                       int* keys_set) {
  std::map<std::string, int> seen;  // normalised key -> line
  std::string list_key;             // a "key:" line with no value opens a block list
  std::vector<std::string> list_items;
  int list_line = 0;
  auto close_list = [&]() -> absl::Status {
    if (list_key.empty()) return absl::OkStatus();
    absl::Status s = SetPolicyValue(policy, list_key, list_items, /*is_list=*/true);
    list_key.clear();
    list_items.clear();
    if (!s.ok())
      return absl::InvalidArgumentError(absl::StrCat(name, ":", list_line, ": ", s.message()));
    return absl::OkStatus();
  };
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    const std::string line = StripComment(std::string(raw));
    const std::string trimmed(absl::StripAsciiWhitespace(line));
    if (trimmed.empty() || trimmed == "---") continue;
    const bool indented = line[0] == ' ' || line[0] == '\t';
    if (trimmed[0] == '-') {
      if (list_key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, ":", line_no, ": list item without a 'key:' line above it"));
      }
      list_items.push_back(Unquote(std::string(absl::StripAsciiWhitespace(trimmed.substr(1)))));
      continue;
    }
    if (indented) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ":", line_no, ": nested mappings are not supported; use flat 'key: value' lines"));
    }
    HTSR_RETURN_IF_ERROR(close_list());
    const size_t colon = trimmed.find(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ":", line_no, ": expected 'key: value', got '", trimmed, "'"));
    }
    const std::string key(absl::StripAsciiWhitespace(trimmed.substr(0, colon)));
    const std::string value(absl::StripAsciiWhitespace(trimmed.substr(colon + 1)));
    // A repeated key is an error, not "last wins": two values for one gate are a mistake
    // (a merge, a copy-paste), and silently keeping the looser one would fail open.
    if (auto [it, added] = seen.emplace(NormalKey(key), line_no); !added) {
      return absl::InvalidArgumentError(absl::StrCat(name, ":", line_no, ": duplicate key '", key,
                                                     "' (first at line ", it->second, ")"));
    }
    ++*keys_set;
    absl::Status s;
    if (value.empty()) {
      list_key = key;
      list_line = line_no;
      continue;
    }
    if (value.front() == '[') {
      if (value.back() != ']') {
        return absl::InvalidArgumentError(absl::StrCat(name, ":", line_no, ": unclosed '['"));
      }
      std::vector<std::string> items;
      for (absl::string_view item :
           absl::StrSplit(value.substr(1, value.size() - 2), ',', absl::SkipWhitespace())) {
        items.push_back(Unquote(std::string(absl::StripAsciiWhitespace(item))));
      }
      s = SetPolicyValue(policy, key, items, /*is_list=*/true);
    } else {
      s = SetPolicyValue(policy, key, {Unquote(value)}, /*is_list=*/false);
    }
    if (!s.ok())
      return absl::InvalidArgumentError(absl::StrCat(name, ":", line_no, ": ", s.message()));
  }
  return close_list();
}

absl::Status ParseJsonPolicy(const std::string& text, const std::string& name, Policy& policy,
                             int* keys_set) {
  std::map<std::string, int> seen;  // normalised key -> line (max-alpha and max_alpha)
  absl::StatusOr<readers::JsonValue> root = readers::ParseJson(text);
  if (!root.ok())
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", root.status().message()));
  if (!root->IsObject())
    return absl::InvalidArgumentError(absl::StrCat(name, ": not a JSON object"));
  for (const readers::JsonMember& m : root->object) {
    const std::string where = absl::StrCat(name, ":", LineOf(text, m.key));
    if (auto [it, added] = seen.emplace(NormalKey(m.key), LineOf(text, m.key)); !added) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": duplicate key '", m.key, "' (first at line ", it->second, ")"));
    }
    ++*keys_set;
    absl::Status s;
    using Kind = readers::JsonValue::Kind;
    if (m.value.kind == Kind::kNumber || m.value.kind == Kind::kString) {
      s = SetPolicyValue(policy, m.key, {m.value.text}, false);
    } else if (m.value.IsArray()) {
      std::vector<std::string> items;
      for (const readers::JsonValue& v : m.value.array) {
        if (!v.IsString()) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, ": ", m.key, ": list items must be strings"));
        }
        items.push_back(v.text);
      }
      s = SetPolicyValue(policy, m.key, items, true);
    } else if (m.value.kind == Kind::kNull) {
      // null is not "no limit": leave the key out for that. A gate must fail closed.
      s = absl::InvalidArgumentError(
          absl::StrCat(m.key, ": null is not a limit (leave the key out to set none)"));
    } else {
      s = absl::InvalidArgumentError(absl::StrCat(m.key, ": expects a number or a list"));
    }
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& PolicyKeys() {
  static const std::vector<std::string>* keys =
      new std::vector<std::string>{"max_alpha",
                                   "min_alpha",
                                   "max_log_spectral_norm",
                                   "max_failed_layers",
                                   "max_under_trained_layers",
                                   "max_over_trained_layers",
                                   "min_analyzed_layers",
                                   "max_mean_alpha",
                                   "min_mean_alpha",
                                   "max_mean_log_spectral_norm",
                                   "ignore_layers"};
  return *keys;
}

absl::Status SetPolicyValue(Policy& p, const std::string& key_in,
                            const std::vector<std::string>& values, bool is_list) {
  // max-alpha (the flag's spelling) and max_alpha mean the same rule.
  std::string key = key_in;
  std::replace(key.begin(), key.end(), '-', '_');
  if (key == "ignore_layers") {
    for (const std::string& v : values) {
      if (!v.empty()) p.ignore_layers.push_back(v);
    }
    return absl::OkStatus();
  }
  struct DoubleRule {
    const char* key;
    std::optional<double>* field;
  };
  struct CountRule {
    const char* key;
    std::optional<int64_t>* field;
  };
  const DoubleRule doubles[] = {{"max_alpha", &p.max_alpha},
                                {"min_alpha", &p.min_alpha},
                                {"max_log_spectral_norm", &p.max_log_spectral_norm},
                                {"max_mean_alpha", &p.max_mean_alpha},
                                {"min_mean_alpha", &p.min_mean_alpha},
                                {"max_mean_log_spectral_norm", &p.max_mean_log_spectral_norm}};
  const CountRule counts[] = {{"max_failed_layers", &p.max_failed_layers},
                              {"max_under_trained_layers", &p.max_under_trained_layers},
                              {"max_over_trained_layers", &p.max_over_trained_layers},
                              {"min_analyzed_layers", &p.min_analyzed_layers}};
  for (const DoubleRule& r : doubles) {
    if (key != r.key) continue;
    if (is_list || values.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": expects one number"));
    }
    HTSR_ASSIGN_OR_RETURN(*r.field, ParseDouble(key, values[0]));
    return absl::OkStatus();
  }
  for (const CountRule& r : counts) {
    if (key != r.key) continue;
    if (is_list || values.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": expects one integer"));
    }
    HTSR_ASSIGN_OR_RETURN(*r.field, ParseCount(key, values[0]));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy key '", key, "' (known: ", absl::StrJoin(PolicyKeys(), ", "), ")"));
}

absl::StatusOr<Policy> ParsePolicy(const std::string& text, const std::string& name) {
  if (text.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": too large for a policy file"));
  }
  Policy p;
  int keys_set = 0;
  const std::string start(absl::StripLeadingAsciiWhitespace(text));
  if (!start.empty() && start[0] == '{') {
    HTSR_RETURN_IF_ERROR(ParseJsonPolicy(text, name, p, &keys_set));
  } else {
    HTSR_RETURN_IF_ERROR(ParseYaml(text, name, p, &keys_set));
  }
  // An empty or comment-only file (a truncated download, a wrong path to a template) is an
  // error: a gate with no rules would pass every model.
  if (keys_set == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name,
                     ": the policy sets no rule (the file is empty or only comments); "
                     "known keys: ",
                     absl::StrJoin(PolicyKeys(), ", ")));
  }
  return p;
}

absl::StatusOr<Policy> ReadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read policy file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParsePolicy(ss.str(), path);
}

}  // namespace htsr::policy
