// The scan's SQLite database (the default store, `--db scan.sqlite`).
//
//   checkpoints        one row per checkpoint path: content hash, status (ok|failed), error,
//                      timings, server, the analysis options it was run with, and the model
//                      summary (one column per output::SummaryFields name)
//   layers             one row per layer of an ok checkpoint: checkpoint_id plus one column
//                      per output::AllColumns() name (the reference tool's CSV names)
//   checkpoint_extras  the manifest's extra columns (checkpoint_id, ord, key, value)
//
// Every checkpoint is written in one transaction (its row, its layers, its extras), so it
// is either fully recorded or absent: a crash or Ctrl-C never leaves half a checkpoint.
// Thread-safe: calls are serialised on one connection.
#ifndef HTSR_CLIENT_SCAN_SCAN_STORE_H_
#define HTSR_CLIENT_SCAN_SCAN_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model/model_report.h"
#include "scan/scan_item.h"

struct sqlite3;

namespace htsr::scan {

struct CheckpointRecord {
  ScanItem item;
  std::string content_hash;
  uint64_t bytes = 0;
  bool ok = false;
  std::string error;        // why it failed (empty when ok)
  std::string options_key;  // analysis options; a different key means "not done"
  std::string server;       // "embedded" or the server address that answered
  int attempts = 1;
  double hash_seconds = 0;
  double analyze_seconds = 0;
  const model::ModelReport* report = nullptr;  // required when ok
};

// One value read back from the database.
using DbValue = std::variant<std::monostate, int64_t, double, std::string>;

struct DbTable {
  std::vector<std::string> columns;
  std::vector<std::vector<DbValue>> rows;
};

class ScanStore {
 public:
  // Creates the file and tables when missing; adds columns a newer htsr defines.
  static absl::StatusOr<std::unique_ptr<ScanStore>> Open(const std::string& path);
  // Opens an existing database without creating anything (export).
  static absl::StatusOr<std::unique_ptr<ScanStore>> OpenReadOnly(const std::string& path);
  ~ScanStore();
  ScanStore(const ScanStore&) = delete;
  ScanStore& operator=(const ScanStore&) = delete;

  // True when `path` is recorded ok with this content hash and these options.
  absl::StatusOr<bool> IsDone(const std::string& path, const std::string& content_hash,
                              const std::string& options_key);
  // Replaces whatever was recorded for record.item.path, in one transaction.
  absl::Status Record(const CheckpointRecord& record);

  // Runs a read-only query (export, tests).
  absl::StatusOr<DbTable> Query(const std::string& sql);

  const std::string& path() const { return path_; }

 private:
  ScanStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  absl::Status Exec(const std::string& sql);
  absl::Status CreateSchema();
  absl::Status AddMissingColumns(const std::string& table, const std::vector<std::string>& cols);
  absl::Status RecordLocked(const CheckpointRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(const std::string& what) const;

  absl::Mutex mu_;
  // The connection is used by one job at a time, under mu_ (Open runs before any job).
  sqlite3* db_ ABSL_PT_GUARDED_BY(mu_);
  std::string path_;
};

// The summary column names of the checkpoints table, in order.
const std::vector<std::string>& SummaryColumnNames();
// The per-layer column names of the layers table, in order (after checkpoint_id).
const std::vector<std::string>& LayerColumnNames();

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_STORE_H_
