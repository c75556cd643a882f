#include "results/accuracy_file.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/status_macros.h"
#include "results/csv_table.h"
#include "results/text_file.h"

namespace htsr::results {

absl::StatusOr<AccuracyTable> ParseAccuracies(absl::string_view text, const std::string& path,
                                              const AccuracyOptions& options) {
  HTSR_ASSIGN_OR_RETURN(CsvTable t, ParseCsv(text, path));
  // Headerless "model,value": the first line's second field is already a number.
  if (t.header.size() == 2 && ParseNumber(t.header[1]).has_value()) {
    t.rows.insert(t.rows.begin(), t.header);
    t.row_lines.insert(t.row_lines.begin(), 1);
    t.header = {"model", "value"};
  }
  int model_col = t.Column("model");
  if (model_col < 0) model_col = t.Column("name");
  if (model_col < 0) model_col = 0;
  const int series_col = t.Column("series");
  int value_col = -1;
  if (!options.column.empty()) {
    value_col = t.Column(options.column);
    if (value_col < 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": no column '", options.column,
                                                     "' (columns: ", absl::StrJoin(t.header, ", "),
                                                     ")"));
    }
  } else {
    for (const char* name : {"accuracy", "top1_acc", "acc", "top1", "top1_accuracy",
                             "test_accuracy", "top1_err", "top1_error", "error", "err", "value"}) {
      if ((value_col = t.Column(name)) >= 0) break;
    }
    if (value_col < 0 && t.header.size() == 2) value_col = model_col == 0 ? 1 : 0;
    if (value_col < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ": which column holds the accuracy? none is named accuracy/top1_acc/top1_err/"
          "error; name one (columns: ",
          absl::StrJoin(t.header, ", "), ")"));
    }
  }
  AccuracyTable out;
  out.column = t.header[value_col];
  if (options.kind.empty()) {
    out.is_error = absl::StrContains(absl::AsciiStrToLower(out.column), "err");
  } else if (options.kind == "error" || options.kind == "accuracy") {
    out.is_error = options.kind == "error";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("the target is 'accuracy' or 'error', got '", options.kind, "'"));
  }
  if (!options.series.empty() && series_col < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a series was asked for but the file has no 'series' column"));
  }
  for (size_t ri = 0; ri < t.rows.size(); ++ri) {
    const auto& row = t.rows[ri];
    if (!options.series.empty() && row[series_col] != options.series) continue;
    const std::string cell(absl::StripAsciiWhitespace(row[value_col]));
    if (cell.empty()) continue;  // a model without this value (top5 of some series)
    const auto v = ParseNumber(cell);
    if (!v || !std::isfinite(*v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", t.row_lines[ri], ": '", cell, "' is not a finite number"));
    }
    out.entries.push_back({row[model_col], series_col >= 0 ? row[series_col] : "", *v});
  }
  if (out.entries.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no values",
        options.series.empty() ? "" : absl::StrCat(" for series '", options.series, "'")));
  }
  return out;
}

absl::StatusOr<AccuracyTable> ReadAccuracyFile(const std::string& path,
                                               const AccuracyOptions& options) {
  HTSR_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseAccuracies(text, path, options);
}

std::vector<std::string> AttachTargets(const AccuracyTable& table,
                                       std::vector<model::ModelRecord>& records) {
  std::vector<std::string> missing;
  for (model::ModelRecord& rec : records) {
    const AccuracyEntry* match = nullptr;
    int count = 0;
    for (const AccuracyEntry& e : table.entries) {
      if (e.model != rec.name) continue;
      if (!rec.series.empty() && !e.series.empty() && e.series != rec.series) continue;
      if (match == nullptr || match->series != e.series || match->value != e.value) ++count;
      if (match == nullptr) match = &e;
    }
    if (match == nullptr) {
      missing.push_back(absl::StrCat(rec.name, ": no ", table.column, " value"));
      continue;
    }
    if (count > 1) {
      missing.push_back(absl::StrCat(rec.name, ": listed in several series; choose one"));
      continue;
    }
    rec.target = match->value;
    if (rec.series.empty()) rec.series = match->series;
  }
  return missing;
}

}  // namespace htsr::results
