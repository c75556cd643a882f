#include "output/summary_fields.h"

namespace htsr::output {

std::vector<SummaryField> SummaryFields(const ModelSummary& s) {
  std::vector<SummaryField> f = {
      {"log_norm", s.log_norm, false},
      {"alpha", s.alpha, false},
      {"alpha_weighted", s.alpha_weighted, false},
      {"log_alpha_norm", s.log_alpha_norm, false},
      {"log_spectral_norm", s.log_spectral_norm, false},
      {"stable_rank", s.stable_rank, false},
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

}  // namespace htsr::output
