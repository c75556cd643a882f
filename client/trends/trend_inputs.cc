#include "trends/trend_inputs.h"

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

std::vector<std::string> LeaveOutEmptyModels(std::vector<model::ModelRecord>& records) {
  std::vector<std::string> notes;
  for (const model::ModelRecord& r : records) {
    if (!r.IsEmpty()) continue;
    std::string why = "no layer analysed";
    if (r.has_layers) {
      const ModelSummary& s = r.report.summary;
      why = absl::StrCat("no layer analysed (", s.num_layers, " layers: ", s.num_skipped,
                         " skipped, ", s.num_failed, " failed)");
    }
    notes.push_back(absl::StrCat(r.name, r.series.empty() ? "" : absl::StrCat(" [", r.series, "]"),
                                 ": ", why, "; left out (an empty model has no summary values)"));
  }
  std::erase_if(records, [](const model::ModelRecord& r) { return r.IsEmpty(); });
  return notes;
}

void DisambiguateNames(std::vector<model::ModelRecord>& records) {
  auto key = [](const model::ModelRecord& r) { return r.source + "\n" + r.report.path; };
  auto path_of = [](const model::ModelRecord& r) {
    // A per-layer CSV or summary names the model by its own path; a multi-model file by the
    // model's path inside it.
    return std::filesystem::path(r.report.path.empty() || r.report.path == r.name ? r.source
                                                                                  : r.report.path);
  };
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < records.size(); ++i) by_name[records[i].name].push_back(i);
  for (auto& [name, idx] : by_name) {
    std::set<std::string> inputs;
    for (size_t i : idx) inputs.insert(key(records[i]));
    if (inputs.size() < 2) continue;
    // Add parent directories until every input's label differs.
    for (int depth = 1; depth <= 8; ++depth) {
      std::map<std::string, std::set<std::string>> labels;  // label -> inputs
      std::vector<std::string> label(idx.size());
      for (size_t k = 0; k < idx.size(); ++k) {
        std::filesystem::path p = path_of(records[idx[k]]).parent_path();
        std::vector<std::string> parts;
        for (int d = 0; d < depth && !p.empty() && p.has_filename(); ++d) {
          parts.insert(parts.begin(), p.filename().string());
          p = p.parent_path();
        }
        parts.push_back(name);
        label[k] = absl::StrJoin(parts, "/");
        labels[label[k]].insert(key(records[idx[k]]));
      }
      bool unique = true;
      for (const auto& [l, ins] : labels) unique &= ins.size() == 1;
      if (unique || depth == 8) {
        for (size_t k = 0; k < idx.size(); ++k) records[idx[k]].name = label[k];
        break;
      }
    }
  }
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
