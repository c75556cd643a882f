// Writes a scan database out: CSV (one table) or JSON (checkpoints with their extras,
// summary and layers nested). Layer columns keep the reference tool's names.
#ifndef HTSR_CLIENT_SCAN_DB_EXPORT_H_
#define HTSR_CLIENT_SCAN_DB_EXPORT_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "scan/scan_store.h"

namespace htsr::scan {

// table: "checkpoints" (one row per checkpoint, manifest extras as extra columns) or
// "layers" (one row per layer, led by the checkpoint's path).
absl::Status ExportCsv(ScanStore& store, const std::string& table, std::ostream& out);

// {"checkpoints": [{path, content_hash, status, ..., "extra": {..}, "summary": {..},
//                   "layers": [{column: value}]}]}
absl::Status ExportJson(ScanStore& store, std::ostream& out);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_DB_EXPORT_H_
