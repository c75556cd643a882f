#include "results/accuracy_file.h"

#include <cmath>
#include <filesystem>

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
    AccuracyEntry e{row[model_col], series_col >= 0 ? row[series_col] : "", *v, {}};
    for (size_t c = 0; c < row.size(); ++c) {
      const int ci = static_cast<int>(c);
      if (ci == model_col || ci == series_col || ci == value_col || row[c].empty()) continue;
      if (!ParseNumber(row[c]).has_value()) e.tags.push_back(row[c]);
    }
    out.entries.push_back(std::move(e));
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

namespace {

// Whether `tag` (a cell of the accuracy row, e.g. the zoo "torchvision") is a directory of
// the record's source path.
bool TagNamesDirectory(const std::string& tag, const model::ModelRecord& rec) {
  for (const std::string* p : {&rec.source, &rec.report.path}) {
    std::filesystem::path dir = std::filesystem::path(*p).parent_path();
    for (const auto& part : dir) {
      if (part.string() == tag) return true;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> AttachTargets(const AccuracyTable& table,
                                       std::vector<model::ModelRecord>& records) {
  std::vector<std::string> missing;
  // Which entries claim a record by naming one of its directories (zoo "torchvision" for
  // layers/torchvision/resnet18.csv): when two inputs share a stem, such an entry goes to
  // that input only, and entries naming no directory go to the inputs no entry claimed.
  std::vector<std::vector<bool>> claims(records.size(),
                                        std::vector<bool>(table.entries.size(), false));
  std::vector<bool> claimed(records.size(), false);
  std::vector<bool> entry_claims(table.entries.size(), false);
  for (size_t ri = 0; ri < records.size(); ++ri) {
    for (size_t ei = 0; ei < table.entries.size(); ++ei) {
      const AccuracyEntry& e = table.entries[ei];
      if (e.model != records[ri].name) continue;
      for (const std::string& tag : e.tags) {
        if (TagNamesDirectory(tag, records[ri])) {
          claims[ri][ei] = true;
          claimed[ri] = true;
          entry_claims[ei] = true;
        }
      }
    }
  }
  std::vector<model::ModelRecord> out;
  out.reserve(records.size());
  for (size_t ri = 0; ri < records.size(); ++ri) {
    model::ModelRecord& rec = records[ri];
    // The matching entries, one per series (the first value of a series wins).
    std::vector<const AccuracyEntry*> matches;
    for (size_t ei = 0; ei < table.entries.size(); ++ei) {
      const AccuracyEntry& e = table.entries[ei];
      if (e.model != rec.name) continue;
      if (!rec.series.empty() && !e.series.empty() && e.series != rec.series) continue;
      if (claimed[ri] ? !claims[ri][ei] : entry_claims[ei]) continue;
      bool dup = false;
      for (const AccuracyEntry* m : matches) dup |= m->series == e.series;
      if (!dup) matches.push_back(&e);
    }
    if (matches.empty()) {
      missing.push_back(absl::StrCat(rec.name, ": no ", table.column, " value"));
      out.push_back(std::move(rec));
      continue;
    }
    // A model listed in several series is analysed in each (the paper's ResNet-1K lists).
    for (size_t k = 0; k < matches.size(); ++k) {
      model::ModelRecord copy = k + 1 < matches.size() ? rec : std::move(rec);
      copy.target = matches[k]->value;
      if (copy.series.empty()) copy.series = matches[k]->series;
      out.push_back(std::move(copy));
    }
  }
  records = std::move(out);
  return missing;
}

}  // namespace htsr::results
