// The scan's progress line on stderr: checkpoints done/failed/skipped of total, bytes/s and
// ETA. Drawn only when enabled (the CLI enables it on a terminal), at most ~10 times a
// second. Thread-safe: jobs report from their own threads.
#ifndef HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_
#define HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace htsr::scan {

class ScanProgress {
 public:
  ScanProgress(bool enabled, int64_t total);
  ~ScanProgress();
  enum class Outcome { kDone, kFailed, kSkipped };
  // One checkpoint finished; `bytes` of it were read.
  void Finished(Outcome outcome, uint64_t bytes);
  // Clears the line.
  void Finish();

  // The text of the line (without terminal control codes), for tests.
  std::string Line(double elapsed_seconds) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::string LineLocked(double elapsed_seconds) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DrawLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const bool enabled_;
  const int64_t total_;
  const std::chrono::steady_clock::time_point start_;
  mutable absl::Mutex mu_;
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Bytes/s and ETA count analysed checkpoints only: skipped ones cost a hash, not a run.
  uint64_t analysed_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point last_draw_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_
