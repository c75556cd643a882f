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
  std::vector<std::string> tags;  // the row's other text cells (e.g. zoo "torchvision")
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
// the same model name, and the same series where both have one. A record listed in several
// series is copied, once per series. When inputs share a name (layers/torchvision/resnet18.csv
// and layers/resnet-1k/resnet18.csv), an entry whose other cells name a directory of one
// input (zoo "torchvision") goes to that input only, and entries naming no directory go to
// the inputs no entry claimed. Returns one line per record left without a value.
std::vector<std::string> AttachTargets(const AccuracyTable& table,
                                       std::vector<model::ModelRecord>& records);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_ACCURACY_FILE_H_
