// One model as trend analysis and reports see it, whatever file it came from: its layers
// when the input has them, its model-level metrics by name, and its accuracy or error.
#ifndef HTSR_CLIENT_MODEL_MODEL_RECORD_H_
#define HTSR_CLIENT_MODEL_MODEL_RECORD_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/model_report.h"

namespace htsr::model {

struct ModelRecord {
  std::string name;    // how users refer to it: the model column, or the file's stem
  std::string series;  // empty unless an input names it
  std::string source;  // file it was read from
  std::string kind;    // "htsr-json", "htsr-csv", "ww-csv", "ww-summary", "summary-csv", "model"
  bool has_layers = false;
  model::ModelReport report;  // layers (when has_layers) and the summary
  // Model-level values by name: our summary names (log_norm, log_spectral_norm,
  // alpha_weighted, log_alpha_norm, alpha, ...) plus any other key the input had
  // (weightwatcher's lognorm_compound, ...). First occurrence wins.
  std::vector<std::pair<std::string, double>> metrics;
  std::optional<double> target;  // accuracy or error, once attached

  std::optional<double> Metric(absl::string_view metric_name) const {
    for (const auto& [k, v] : metrics) {
      if (k == metric_name) return v;
    }
    return std::nullopt;
  }
  // No layer analysed: the model has no model-level value (README "Empty models"), and
  // rankings and regressions leave it out rather than read 0.
  bool IsEmpty() const {
    if (has_layers) return report.summary.num_analyzed == 0;
    if (auto n = Metric("num_analyzed")) return *n == 0;
    return metrics.empty();
  }
  void SetMetric(const std::string& metric_name, double v) {
    if (!Metric(metric_name)) metrics.emplace_back(metric_name, v);
  }
};

// Records grouped by their series, groups in order of first appearance, records in input
// order within a group (what compare and rank report per series).
struct SeriesGroup {
  std::string series;
  std::vector<const ModelRecord*> records;
};
inline std::vector<SeriesGroup> GroupBySeries(const std::vector<ModelRecord>& records) {
  std::vector<SeriesGroup> groups;
  for (const ModelRecord& r : records) {
    size_t g = 0;
    while (g < groups.size() && groups[g].series != r.series) ++g;
    if (g == groups.size()) groups.push_back({r.series, {}});
    groups[g].records.push_back(&r);
  }
  return groups;
}

}  // namespace htsr::model

#endif  // HTSR_CLIENT_MODEL_MODEL_RECORD_H_
