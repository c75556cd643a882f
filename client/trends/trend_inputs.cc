#include "trends/trend_inputs.h"

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "htsr/status_macros.h"
#include "results/results_file.h"

namespace htsr::trends {

bool LooksLikeResultsFile(absl::string_view path) {
  std::error_code ec;
  if (std::filesystem::is_directory(std::string(path), ec)) return false;
  const std::string lower = absl::AsciiStrToLower(path);
  for (const char* ext : {".json", ".csv", ".txt", ".sqlite", ".sqlite3", ".db"}) {
    if (absl::EndsWith(lower, ext)) return true;
  }
  return false;
}

bool AnyTarget(const std::vector<model::ModelRecord>& records) {
  for (const model::ModelRecord& r : records) {
    if (r.target) return true;
  }
  return false;
}

absl::Status AppendResults(const std::string& path, std::vector<model::ModelRecord>& records) {
  HTSR_ASSIGN_OR_RETURN(std::vector<model::ModelRecord> got, results::ReadResultsFile(path));
  for (model::ModelRecord& r : got) records.push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status AttachTargetsFromSpec(const TargetSpec& spec, std::vector<model::ModelRecord>& records,
                                   TrendOptions& options, std::vector<std::string>& notes) {
  if (!spec.accuracy_file.empty()) {
    HTSR_ASSIGN_OR_RETURN(results::AccuracyTable table,
                          results::ReadAccuracyFile(spec.accuracy_file, spec.accuracy));
    options.target_is_error = table.is_error;
    options.target_name = table.column;
    for (std::string& line : results::AttachTargets(table, records))
      notes.push_back(std::move(line));
    // With --series, the models not in that series are not part of the analysis.
    if (!spec.accuracy.series.empty()) {
      std::erase_if(records, [](const model::ModelRecord& r) { return !r.target.has_value(); });
    }
    return absl::OkStatus();
  }
  std::string column = spec.target_column;
  if (column.empty()) {
    // A scan manifest or a summary CSV that carries accuracies: use them without being told.
    for (const char* name : {"accuracy", "top1_acc", "acc", "top1_accuracy", "test_accuracy",
                             "top1_err", "top1_error", "error", "err"}) {
      for (const model::ModelRecord& r : records) {
        if (r.Metric(name)) {
          column = name;
          break;
        }
      }
      if (!column.empty()) break;
    }
    if (column.empty()) return absl::OkStatus();
  }
  options.target_name = column;
  if (spec.accuracy.kind.empty()) {
    options.target_is_error = absl::StrContains(absl::AsciiStrToLower(column), "err");
  } else {
    options.target_is_error = spec.accuracy.kind == "error";
  }
  // The target is not also a metric to regress on.
  std::erase(options.metrics, column);
  for (model::ModelRecord& r : records) {
    r.target = r.Metric(column);
    if (!r.target) notes.push_back(absl::StrCat(r.name, ": no '", column, "' value"));
  }
  return absl::OkStatus();
}

std::vector<std::string> SplitList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view s : absl::StrSplit(list, ',')) {
    s = absl::StripAsciiWhitespace(s);
    if (!s.empty()) out.emplace_back(s);
  }
  return out;
}

}  // namespace htsr::trends
