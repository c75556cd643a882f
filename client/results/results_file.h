// Reads any result file trend analysis and reports accept, telling the kind from the
// content: htsr `analyze --format json|csv`, weightwatcher per-layer CSVs (0.2.x and
// 0.7.x), weightwatcher summary dicts (get_summary() as a Python dict literal or as JSON),
// per-model summary CSVs (one row per model: a model/name column and metric columns), and
// `htsr scan` databases (SQLite).
#ifndef HTSR_CLIENT_RESULTS_RESULTS_FILE_H_
#define HTSR_CLIENT_RESULTS_RESULTS_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/model_record.h"

namespace htsr::results {

// One record per model in the file. Errors name the file (and line or offset).
absl::StatusOr<std::vector<model::ModelRecord>> ReadResultsFile(const std::string& path);

// Same, from text already read; `path` names it in errors and gives the default model name.
absl::StatusOr<std::vector<model::ModelRecord>> ParseResults(absl::string_view text,
                                                             const std::string& path);

// The name a path gives a model: its file name without directory and extension.
std::string ModelNameFromPath(absl::string_view path);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_RESULTS_FILE_H_
