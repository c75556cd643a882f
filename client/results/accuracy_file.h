// Accuracy (or error) lists that `htsr compare --accuracy FILE` pairs with model metrics:
// a CSV with a model column and a value column, optionally a series column; or a bare
// two-column "model,value" list without header.
#ifndef HTSR_CLIENT_RESULTS_ACCURACY_FILE_H_
#define HTSR_CLIENT_RESULTS_ACCURACY_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "model/model_record.h"

namespace htsr::results {

struct AccuracyOptions {
  std::string
      column;  // value column; empty = the first of accuracy/top1_acc/acc/top1_err/error/...
  std::string series;  // keep only rows of this series (files with a series column)
  // "accuracy" or "error"; empty = an error when the column's name says "err".
  std::string kind;
};

struct AccuracyEntry {
  std::string model;
  std::string series;
  double value = 0;
};

struct AccuracyTable {
  std::string column;
  bool is_error = false;
  std::vector<AccuracyEntry> entries;
};

absl::StatusOr<AccuracyTable> ParseAccuracies(absl::string_view text, const std::string& path,
                                              const AccuracyOptions& options);
absl::StatusOr<AccuracyTable> ReadAccuracyFile(const std::string& path,
                                               const AccuracyOptions& options);

// Sets each record's target (and its series, when the record has none) from the entry with
// the same model name, and the same series where both have one. Returns one line per record
// left without a value (not listed, or listed in several series: pass a series).
std::vector<std::string> AttachTargets(const AccuracyTable& table,
                                       std::vector<model::ModelRecord>& records);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_ACCURACY_FILE_H_
