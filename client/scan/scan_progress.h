// The scan's progress line on stderr: checkpoints done/failed/skipped of total, bytes/s and
// ETA. Drawn only when enabled (the CLI enables it on a terminal), at most ~10 times a
// second. Thread-safe: jobs report from their own threads.
#ifndef HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_
#define HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

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
  std::string Line(double elapsed_seconds) const;

 private:
  void Draw();
  const bool enabled_;
  const int64_t total_;
  int64_t done_ = 0, failed_ = 0, skipped_ = 0;
  uint64_t bytes_ = 0;
  // Bytes/s and ETA count analysed checkpoints only: skipped ones cost a hash, not a run.
  uint64_t analysed_bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  mutable std::mutex mu_;
  bool finished_ = false;
};

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SCAN_PROGRESS_H_
