#include "policy/policy_eval.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "htsr/thresholds.h"

namespace htsr::policy {
namespace {

// Layers listed in a message; the rest are counted.
constexpr size_t kListed = 3;

std::string Num(double v) { return absl::StrFormat("%.4g", v); }

struct Offender {
  const LayerResult* layer;
  double value;
};

std::string Describe(const std::vector<Offender>& offenders, const char* metric) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < offenders.size() && i < kListed; ++i) {
    const LayerResult& r = *offenders[i].layer;
    parts.push_back(absl::StrCat("layer ", r.plan.layer_id, " '", r.plan.name, "' ", metric, " ",
                                 Num(offenders[i].value)));
  }
  std::string s = absl::StrJoin(parts, ", ");
  if (offenders.size() > kListed)
    absl::StrAppend(&s, " (and ", offenders.size() - kListed, " more)");
  return s;
}

}  // namespace

bool IsIgnored(const Policy& policy, const std::string& name) {
  for (const std::string& pat : policy.ignore_layers) {
    if (pat.find_first_of("*?[") != std::string::npos) {
      if (fnmatch(pat.c_str(), name.c_str(), 0) == 0) return true;
    } else if (name.find(pat) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::vector<Violation> Evaluate(const Policy& policy, const model::ModelReport& report) {
  std::vector<Violation> out;
  std::vector<const LayerResult*> analysed, failed;
  for (const LayerResult& r : report.layers) {
    if (IsIgnored(policy, r.plan.name)) continue;
    if (r.status == LayerStatus::kSuccess) analysed.push_back(&r);
    if (r.status == LayerStatus::kFailed) failed.push_back(&r);
  }

  // Fail closed: a model in which no (non-ignored) layer was analysed cannot pass a gate
  // that says nothing about it (an empty or mis-filtered checkpoint, a model whose only
  // layer failed). One violation, saying why; `min_analyzed_layers: 0` allows such models.
  if (analysed.empty() && !(policy.min_analyzed_layers && *policy.min_analyzed_layers == 0)) {
    int64_t skipped = 0, ignored = 0;
    for (const LayerResult& r : report.layers) {
      if (IsIgnored(policy, r.plan.name)) {
        ++ignored;
      } else if (r.status == LayerStatus::kSkipped) {
        ++skipped;
      }
    }
    std::string why;
    if (report.layers.empty()) {
      why = "the model has no layer to analyse";
    } else {
      std::vector<std::string> parts;
      if (!failed.empty()) {
        parts.push_back(absl::StrCat(failed.size(), " failed (layer ", failed[0]->plan.layer_id,
                                     " '", failed[0]->plan.name, "': ", failed[0]->reason,
                                     failed.size() > 1 ? ", ..." : "", ")"));
      }
      if (skipped > 0) parts.push_back(absl::StrCat(skipped, " skipped"));
      if (ignored > 0) parts.push_back(absl::StrCat(ignored, " ignored by ignore_layers"));
      why = absl::StrCat(report.layers.size(), report.layers.size() == 1 ? " layer: " : " layers: ",
                         absl::StrJoin(parts, ", "));
    }
    const int64_t need = policy.min_analyzed_layers.value_or(1);
    out.push_back({"min_analyzed_layers", static_cast<double>(need), 0.0,
                   absl::StrCat("no layer analysed (", why,
                                "): nothing to check, so the model does not pass "
                                "(min_analyzed_layers ",
                                need, "; set it to 0 to allow empty models)")});
    return out;
  }

  // A per-layer bound: every analysed layer's metric on the right side of the limit.
  auto per_layer = [&](const char* rule, const std::optional<double>& limit, bool is_max,
                       const char* metric, const std::function<double(const LayerResult&)>& get) {
    if (!limit) return;
    std::vector<Offender> bad;
    for (const LayerResult* r : analysed) {
      const double v = get(*r);
      if (is_max ? v > *limit : v < *limit) bad.push_back({r, v});
    }
    if (bad.empty()) return;
    std::sort(bad.begin(), bad.end(), [is_max](const Offender& a, const Offender& b) {
      return is_max ? a.value > b.value : a.value < b.value;
    });
    out.push_back({rule, *limit, bad.front().value,
                   absl::StrCat(rule, " ", Num(*limit), ": ", bad.size(), " layer",
                                bad.size() == 1 ? "" : "s",
                                is_max ? " above: " : " below: ", Describe(bad, metric))});
  };
  per_layer("max_alpha", policy.max_alpha, true, "alpha",
            [](const LayerResult& r) { return r.alpha; });
  per_layer("min_alpha", policy.min_alpha, false, "alpha",
            [](const LayerResult& r) { return r.alpha; });
  per_layer("max_log_spectral_norm", policy.max_log_spectral_norm, true, "log_spectral_norm",
            [](const LayerResult& r) { return r.log_spectral_norm; });

  if (policy.max_failed_layers && static_cast<int64_t>(failed.size()) > *policy.max_failed_layers) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < failed.size() && i < kListed; ++i) {
      parts.push_back(absl::StrCat("layer ", failed[i]->plan.layer_id, " '", failed[i]->plan.name,
                                   "' (", failed[i]->reason, ")"));
    }
    std::string s = absl::StrJoin(parts, ", ");
    if (failed.size() > kListed) absl::StrAppend(&s, " (and ", failed.size() - kListed, " more)");
    out.push_back({"max_failed_layers", static_cast<double>(*policy.max_failed_layers),
                   static_cast<double>(failed.size()),
                   absl::StrCat("max_failed_layers ", *policy.max_failed_layers, ": ",
                                failed.size(), " failed: ", s)});
  }

  // Counts over the same (non-ignored) layers as the summary's definitions (docs/spec.md §5).
  auto count_rule = [&](const char* rule, const std::optional<int64_t>& limit,
                        const std::string& what,
                        const std::function<bool(const LayerResult&)>& pred, const char* metric) {
    if (!limit) return;
    std::vector<Offender> bad;
    for (const LayerResult* r : analysed) {
      if (pred(*r)) bad.push_back({r, r->alpha});
    }
    if (static_cast<int64_t>(bad.size()) <= *limit) return;
    out.push_back({rule, static_cast<double>(*limit), static_cast<double>(bad.size()),
                   absl::StrCat(rule, " ", *limit, ": ", bad.size(), " ", what, ": ",
                                Describe(bad, metric))});
  };
  count_rule(
      "max_under_trained_layers", policy.max_under_trained_layers,
      absl::StrFormat("under-trained layers (alpha > %g)", kAlphaUnderTrained),
      [](const LayerResult& r) { return r.warning == LayerWarning::kUnderTrained; }, "alpha");
  count_rule(
      "max_over_trained_layers", policy.max_over_trained_layers,
      absl::StrFormat("over-trained layers (alpha < %g)", kAlphaOverTrained),
      [](const LayerResult& r) { return r.warning == LayerWarning::kOverTrained; }, "alpha");

  if (policy.min_analyzed_layers &&
      static_cast<int64_t>(analysed.size()) < *policy.min_analyzed_layers) {
    out.push_back({"min_analyzed_layers", static_cast<double>(*policy.min_analyzed_layers),
                   static_cast<double>(analysed.size()),
                   absl::StrCat("min_analyzed_layers ", *policy.min_analyzed_layers, ": only ",
                                analysed.size(), " layers analysed")});
  }

  // Means over the non-ignored analysed layers (equal to the summary when nothing is ignored).
  auto mean = [&](const std::function<double(const LayerResult&)>& get) {
    double s = 0;
    for (const LayerResult* r : analysed) s += get(*r);
    return analysed.empty() ? 0.0 : s / static_cast<double>(analysed.size());
  };
  auto mean_rule = [&](const char* rule, const std::optional<double>& limit, bool is_max,
                       const char* metric, const std::function<double(const LayerResult&)>& get) {
    if (!limit || analysed.empty()) return;
    const double m = mean(get);
    if (is_max ? m <= *limit : m >= *limit) return;
    out.push_back({rule, *limit, m,
                   absl::StrCat(rule, " ", Num(*limit), ": mean ", metric, " ", Num(m), " over ",
                                analysed.size(), " layers")});
  };
  mean_rule("max_mean_alpha", policy.max_mean_alpha, true, "alpha",
            [](const LayerResult& r) { return r.alpha; });
  mean_rule("min_mean_alpha", policy.min_mean_alpha, false, "alpha",
            [](const LayerResult& r) { return r.alpha; });
  mean_rule("max_mean_log_spectral_norm", policy.max_mean_log_spectral_norm, true,
            "log_spectral_norm", [](const LayerResult& r) { return r.log_spectral_norm; });
  return out;
}

}  // namespace htsr::policy
