// A progress bar with ETA on stderr, drawn only when stderr is a terminal (quiet in pipes,
// CI logs and files). Thread-safe: workers report from their own threads.
#ifndef HTSR_CLIENT_CLI_PROGRESS_BAR_H_
#define HTSR_CLIENT_CLI_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "analysis/layer_progress.h"

namespace htsr::cli {

class ProgressBar : public analysis::LayerProgress {
 public:
  // `enabled` false makes every call a no-op. `label` prefixes the line (e.g. file name).
  ProgressBar(bool enabled, std::string label, int64_t total_units, int64_t total_bytes);
  ~ProgressBar() override;
  // One more unit (layer) done, `bytes` of its input processed, `what` the layer's name.
  void Advance(int64_t bytes, const std::string& what) override;
  // Clears the line.
  void Finish() override;

  static bool StderrIsTerminal();
  // Bars for the pipeline's models, or an empty factory (no progress) unless `enabled`
  // and stderr is a terminal.
  static analysis::LayerProgressFactory Factory(bool enabled);

 private:
  void Draw();
  bool enabled_;
  std::string label_;
  int64_t total_units_, total_bytes_;
  int64_t done_units_ = 0, done_bytes_ = 0;
  std::string last_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
  bool finished_ = false;
};

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_PROGRESS_BAR_H_
