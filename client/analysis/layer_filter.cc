#include "analysis/layer_filter.h"

#include <fnmatch.h>

#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace htsr::analysis {
namespace {

bool ParseInt(absl::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool LayerFilter::Term::Matches(const LayerPlan& plan) const {
  switch (kind) {
    case kIdRange:
      return plan.layer_id >= lo && plan.layer_id <= hi;
    case kType:
      return plan.type == type;
    case kName:
      if (pattern.find_first_of("*?[") != std::string::npos) {
        return fnmatch(pattern.c_str(), plan.name.c_str(), 0) == 0 ||
               fnmatch(pattern.c_str(), plan.tensor_name.c_str(), 0) == 0;
      }
      return plan.name.find(pattern) != std::string::npos ||
             plan.tensor_name.find(pattern) != std::string::npos;
  }
  return false;
}

absl::StatusOr<LayerFilter> LayerFilter::Parse(const std::string& spec) {
  LayerFilter f;
  f.spec_ = spec;
  for (absl::string_view raw : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    absl::string_view t = absl::StripAsciiWhitespace(raw);
    bool exclude = absl::ConsumePrefix(&t, "!");
    int id = 0;
    if (!exclude && t.size() > 1 && t[0] == '-' && ParseInt(t.substr(1), &id)) {
      exclude = true;  // the reference's layers=[-3]
      t.remove_prefix(1);
    }
    if (t.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--layers: empty term in '", spec, "'"));
    }
    Term term;
    const size_t dash = t.find('-');
    const std::string text(t);
    int lo = 0, hi = 0;
    if (ParseInt(t, &id)) {
      term.kind = Term::kIdRange;
      term.lo = term.hi = id;
    } else if (dash != absl::string_view::npos && ParseInt(t.substr(0, dash), &lo) &&
               ParseInt(t.substr(dash + 1), &hi)) {
      if (lo > hi) {
        return absl::InvalidArgumentError(absl::StrCat("--layers: empty range '", text, "'"));
      }
      term.kind = Term::kIdRange;
      term.lo = lo;
      term.hi = hi;
    } else if (t == "dense" || t == "conv1d" || t == "conv2d") {
      term.kind = Term::kType;
      term.type = t == "dense"    ? LayerType::kDense
                  : t == "conv1d" ? LayerType::kConv1d
                                  : LayerType::kConv2d;
    } else {
      term.kind = Term::kName;
      term.pattern = text;
    }
    (exclude ? f.exclude_ : f.include_).push_back(std::move(term));
  }
  return f;
}

bool LayerFilter::Selects(const LayerPlan& plan) const {
  bool in = include_.empty();
  for (const auto& t : include_) in = in || t.Matches(plan);
  if (!in) return false;
  for (const auto& t : exclude_) {
    if (t.Matches(plan)) return false;
  }
  return true;
}

absl::Status LayerFilter::CheckSelectsAny(const std::vector<LayerPlan>& plans,
                                          absl::string_view model) const {
  if (empty() || plans.empty()) return absl::OkStatus();
  for (const LayerPlan& p : plans) {
    if (Selects(p)) return absl::OkStatus();
  }
  constexpr size_t kListed = 8;
  std::string listed;
  for (size_t i = 0; i < plans.size() && i < kListed; ++i) {
    absl::StrAppend(&listed, i ? ", " : "", plans[i].layer_id, " ", plans[i].name, " (",
                    std::string(LayerTypeName(plans[i].type)), ")");
  }
  if (plans.size() > kListed) absl::StrAppend(&listed, ", ... (", plans.size() - kListed, " more)");
  return absl::InvalidArgumentError(
      absl::StrCat("--layers '", spec_, "' selects none of the ", plans.size(), " layer",
                   plans.size() == 1 ? "" : "s", " of ", model, " (ids ", plans.front().layer_id,
                   "-", plans.back().layer_id, ": ", listed, "); 'htsr describe' lists them"));
}

}  // namespace htsr::analysis
