// A strict RFC 4180 CSV reader for the tables users bring (weightwatcher's per-layer CSVs,
// htsr's own CSV output, accuracy lists): a header row, then rows with as many fields.
#ifndef HTSR_CLIENT_RESULTS_CSV_TABLE_H_
#define HTSR_CLIENT_RESULTS_CSV_TABLE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace htsr::results {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as wide as the header
  std::vector<int> row_lines;                  // 1-based source line of each row (errors)

  // Index of the column named `name` (exact match), or -1.
  int Column(absl::string_view name) const;
};

// `source` names the input in errors ("accuracies.csv: line 7: ...").
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view source);

// A finite or non-finite double from a CSV cell ("inf", "nan", "-inf" as pandas writes);
// nullopt for an empty cell or text that is not a number.
std::optional<double> ParseNumber(absl::string_view cell);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_CSV_TABLE_H_
