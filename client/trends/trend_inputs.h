// What `htsr compare` and `htsr report` share: reading every result file given, pairing
// models with accuracies (from --accuracy FILE, or a column of the inputs), and the trend
// options that follow from it.
#ifndef HTSR_CLIENT_TRENDS_TREND_INPUTS_H_
#define HTSR_CLIENT_TRENDS_TREND_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "model/model_record.h"
#include "results/accuracy_file.h"
#include "trends/trend_analysis.h"

namespace htsr::trends {

struct TargetSpec {
  std::string accuracy_file;          // --accuracy
  results::AccuracyOptions accuracy;  // --accuracy-column, --series, --target
  std::string target_column;          // --target-column: a per-model column of the inputs
};

// Whether `path` names a result file (by extension: .json .csv .txt, or a scan database
// .sqlite .sqlite3 .db) rather than a model
// checkpoint (any other file or a directory).
bool LooksLikeResultsFile(absl::string_view path);

// Whether any record has a target (a trend can be fitted).
bool AnyTarget(const std::vector<model::ModelRecord>& records);

// Reads and appends every record of `path`.
absl::Status AppendResults(const std::string& path, std::vector<model::ModelRecord>& records);

// Attaches targets to `records` and fills the target fields of `options`. Without
// --accuracy or --target-column, a per-model column named accuracy/top1_acc/acc/top1_err/
// error (a scan manifest's extra column, a summary CSV's column) is used when present; with
// none, no record gets a target. `notes` gets one line per model left without a value.
absl::Status AttachTargetsFromSpec(const TargetSpec& spec, std::vector<model::ModelRecord>& records,
                                   TrendOptions& options, std::vector<std::string>& notes);

// Removes the models in which no layer was analysed (ModelRecord::IsEmpty): they have no
// model-level values to rank or regress. Returns one line per model left out, saying so.
std::vector<std::string> LeaveOutEmptyModels(std::vector<model::ModelRecord>& records);

// Models told apart by path when stems collide: records of different inputs that share a
// name get the shortest distinguishing path suffix ("torchvision/resnet34",
// "resnet-1k/resnet34"). Copies of one input (one per series) keep one name.
void DisambiguateNames(std::vector<model::ModelRecord>& records);

// A comma-separated list ("a,b,c") without empty items.
std::vector<std::string> SplitList(absl::string_view list);

}  // namespace htsr::trends

#endif  // HTSR_CLIENT_TRENDS_TREND_INPUTS_H_
