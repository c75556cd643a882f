// `htsr rank`: models ordered by predicted quality without any data (the paper's use:
// "which of these checkpoints is better?"). One row per model with its model-level
// metrics, grouped by series, ordered by a metric where lower is better (alpha_weighted
// by default), with each model's diagnostics; where accuracies are known, the Kendall tau
// of the predicted order against the actual one.
#ifndef HTSR_CLIENT_TRENDS_RANK_H_
#define HTSR_CLIENT_TRENDS_RANK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "htsr/layer.h"
#include "model/diagnostics.h"
#include "model/model_record.h"

namespace htsr::trends {

// The columns of a rank row, in order: the paper's model-level means.
const std::vector<std::string>& RankMetrics();

struct RankOptions {
  std::string by = "alpha_weighted";  // lower is better (the paper's metrics all are)
  bool target_is_error = false;
  std::string target_name;
  model::DiagnosticThresholds thresholds;
};

struct RankedModel {
  std::string name, series, source;
  int rank = 0;                               // 1 = predicted best in its series; 0 = no value
  std::vector<std::optional<double>> values;  // one per RankMetrics()
  std::optional<double> by_value;             // the --by metric (also one of values, or not)
  std::optional<int64_t> analysed, skipped, failed;
  std::optional<int64_t> under_trained, over_trained;  // alpha outside [2, 6]
  std::vector<std::string> collapse_against;           // scale collapse against these neighbours
  std::optional<double> target;
};

struct RankedSeries {
  std::string series;
  std::vector<RankedModel> models;  // best first; models without the --by value last
  // Kendall tau between predicted quality (-by) and actual quality (accuracy, or -error):
  // 1 = the predicted order is exactly right, -1 = exactly reversed.
  std::optional<double> kendall_tau;
  int with_target = 0;
};

struct RankResult {
  std::string by;
  std::string target_name;
  std::vector<RankedSeries> series;
};

// Groups by series (input order of first appearance) and ranks each group. Empty models
// must have been left out (LeaveOutEmptyModels).
RankResult RankModels(const std::vector<model::ModelRecord>& records, const RankOptions& options);

// Layer selection on records read from result files or analysed here: keeps the layers
// `select` accepts and recomputes each model's summary metrics from them. An error when a
// record has no layers to select from (a summary dict, a summary CSV) or when `select`
// accepts none of a model's layers (`spec` names the selection in that message).
absl::Status SelectLayers(std::vector<model::ModelRecord>& records,
                          const std::function<bool(const LayerPlan&)>& select,
                          const std::string& spec);

// Series from a rule instead of a column: "dir" (the input's directory), or a regular
// expression on the model name (its first group, or the whole match). Records that already
// have a series keep it. Errors: a bad expression.
absl::Status GroupBy(std::vector<model::ModelRecord>& records, const std::string& rule);

void WriteRankTable(const RankResult& r, std::ostream& out);
void WriteRankCsv(const RankResult& r, std::ostream& out);
void WriteRankJson(const RankResult& r, std::ostream& out);

}  // namespace htsr::trends

#endif  // HTSR_CLIENT_TRENDS_RANK_H_
