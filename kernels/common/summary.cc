// Model summary (docs/spec.md §5): means over layers whose status is success.
#include "htsr/summary.h"

#include <algorithm>
#include <utility>

namespace htsr {

ModelSummary Summarize(const std::vector<LayerResult>& layers) {
  ModelSummary s;
  s.num_layers = static_cast<int64_t>(layers.size());
  double mp_sum = 0;
  int64_t mp_count = 0;
  for (const LayerResult& r : layers) {
    switch (r.status) {
      case LayerStatus::kSkipped:
        ++s.num_skipped;
        continue;
      case LayerStatus::kFailed:
        ++s.num_failed;
        continue;
      case LayerStatus::kSuccess:
        break;
    }
    ++s.num_analyzed;
    if (r.warning == LayerWarning::kUnderTrained) ++s.num_under_trained;
    if (r.warning == LayerWarning::kOverTrained) ++s.num_over_trained;
    s.log_norm += r.log_norm;
    s.alpha += r.alpha;
    s.alpha_weighted += r.alpha_weighted;
    s.log_alpha_norm += r.log_alpha_norm;
    s.log_spectral_norm += r.log_spectral_norm;
    s.stable_rank += r.stable_rank;
    if (r.mp_softrank.has_value()) {
      mp_sum += *r.mp_softrank;
      ++mp_count;
    }
  }
  if (s.num_analyzed > 0) {
    const double n = static_cast<double>(s.num_analyzed);
    s.log_norm /= n;
    s.alpha /= n;
    s.alpha_weighted /= n;
    s.log_alpha_norm /= n;
    s.log_spectral_norm /= n;
    s.stable_rank /= n;
  }
  if (mp_count > 0) s.mp_softrank = mp_sum / static_cast<double>(mp_count);
  return s;
}

void SortInLayerOrder(std::vector<LayerResult>& rows) {
  std::sort(rows.begin(), rows.end(), [](const LayerResult& a, const LayerResult& b) {
    return std::make_pair(a.plan.layer_id, a.slice_id.value_or(0)) <
           std::make_pair(b.plan.layer_id, b.slice_id.value_or(0));
  });
}

}  // namespace htsr
