// Model-level summary (docs/spec.md §5).
#ifndef HTSR_SUMMARY_H_
#define HTSR_SUMMARY_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "htsr/layer.h"

namespace htsr {

// Means over layers with status success. Failed layers are excluded (the reference
// averages them in with alpha = -1; see docs/compatibility.md).
struct ModelSummary {
  int64_t num_layers = 0;  // rows reported
  int64_t num_analyzed = 0;
  int64_t num_skipped = 0;
  int64_t num_failed = 0;
  int64_t num_under_trained = 0;  // alpha > 6
  int64_t num_over_trained = 0;   // alpha < 2
  double log_norm = 0;
  double alpha = 0;
  double alpha_weighted = 0;
  double log_alpha_norm = 0;
  double log_spectral_norm = 0;
  double stable_rank = 0;
  std::optional<double> mp_softrank;
};

ModelSummary Summarize(const std::vector<LayerResult>& layers);

// Table order: layer id, then conv slice. Rows gathered out of order (server workers,
// several remote streams) are put back in it before Summarize, whose means are sums that
// depend on the order, so every path gets the same summary to the last bit.
void SortInLayerOrder(std::vector<LayerResult>& rows);

}  // namespace htsr

#endif  // HTSR_SUMMARY_H_
