#include "output/summary_fields.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace htsr::output {

std::vector<SummaryField> SummaryFields(const ModelSummary& s) {
  const bool has = HasSummaryValues(s);
  auto mean = [has](double v) { return has ? v : std::numeric_limits<double>::quiet_NaN(); };
  std::vector<SummaryField> f = {
      {"log_norm", mean(s.log_norm), false},
      {"alpha", mean(s.alpha), false},
      {"alpha_weighted", mean(s.alpha_weighted), false},
      {"log_alpha_norm", mean(s.log_alpha_norm), false},
      {"log_spectral_norm", mean(s.log_spectral_norm), false},
      {"stable_rank", mean(s.stable_rank), false},
  };
  if (s.mp_softrank) f.push_back({"mp_softrank", *s.mp_softrank, false});
  f.push_back({"num_layers", static_cast<double>(s.num_layers), true});
  f.push_back({"num_analyzed", static_cast<double>(s.num_analyzed), true});
  f.push_back({"num_skipped", static_cast<double>(s.num_skipped), true});
  f.push_back({"num_failed", static_cast<double>(s.num_failed), true});
  f.push_back({"num_under_trained", static_cast<double>(s.num_under_trained), true});
  f.push_back({"num_over_trained", static_cast<double>(s.num_over_trained), true});
  return f;
}

std::string_view SummaryStatus(const ModelSummary& s) {
  return HasSummaryValues(s) ? "ok" : "empty";
}

std::string EmptySummaryReason(const ModelSummary& s) {
  if (HasSummaryValues(s)) return "";
  if (s.num_layers == 0) return "no layer analysed (the model has no layer to analyse)";
  std::string parts;
  if (s.num_skipped > 0) absl::StrAppend(&parts, s.num_skipped, " skipped");
  if (s.num_failed > 0) absl::StrAppend(&parts, parts.empty() ? "" : ", ", s.num_failed, " failed");
  return absl::StrCat("no layer analysed (", parts, ")");
}

}  // namespace htsr::output
