// Runs a scan: for each checkpoint, hash it, skip it when the store already has it done
// with the same content and options, else analyse it and record the outcome in one
// transaction. `jobs` checkpoints run at once. Cancellation (Ctrl-C) stops new work and
// lets running checkpoints finish and be recorded, so a re-run resumes where it stopped.
#ifndef HTSR_CLIENT_SCAN_SCAN_RUNNER_H_
#define HTSR_CLIENT_SCAN_SCAN_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/checkpoint_analyzer.h"
#include "scan/scan_item.h"
#include "scan/scan_store.h"

namespace htsr::scan {

struct ScanOptions {
  int jobs = 1;
  std::string options_key;                    // see OptionsKey()
  bool force = false;                         // re-analyse checkpoints already done
  bool progress = false;                      // progress line on stderr
  bool quiet = false;                         // no per-checkpoint failure lines on `log`
  const std::atomic<bool>* cancel = nullptr;  // set from a signal handler
  // For items with a manifest base column (manifest.h); null: such items fail, saying why.
  const analysis::BaseCheckpointAnalyzer* base_analyzer = nullptr;
};

struct ScanStats {
  int64_t total = 0;
  int64_t ok = 0;
  int64_t failed = 0;
  int64_t empty = 0;  // analysed, but no layer analysed (counted in ok too; status "empty")
  int64_t skipped = 0;
  int64_t not_started = 0;  // left when cancelled
  uint64_t bytes = 0;       // bytes hashed
  double seconds = 0;
  bool cancelled = false;
};

// Errors only for the store (a scan that cannot record must stop); checkpoint failures are
// recorded and counted. Failure lines go to `log` as "failed: PATH: ERROR".
absl::StatusOr<ScanStats> RunScan(const std::vector<ScanItem>& items, ScanStore& store,
                                  const analysis::CheckpointAnalyzer& analyzer,
                                  const ScanOptions& options, std::ostream& log);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_RUNNER_H_
