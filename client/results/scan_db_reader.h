// Reads an `htsr scan` database (SQLite) as model records: one per checkpoint recorded ok,
// with its summary, its layers, and the manifest's extra columns (model name, series,
// accuracy, ...) kept as metrics so that `--target-column accuracy` can use them.
#ifndef HTSR_CLIENT_RESULTS_SCAN_DB_READER_H_
#define HTSR_CLIENT_RESULTS_SCAN_DB_READER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_record.h"

namespace htsr::results {

// Whether the file starts with SQLite's magic header.
bool IsSqliteFile(const std::string& path);

absl::StatusOr<std::vector<model::ModelRecord>> ReadScanDatabase(const std::string& path);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_SCAN_DB_READER_H_
