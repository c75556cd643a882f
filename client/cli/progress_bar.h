// Progress with ETA on stderr: a redrawn bar when stderr is a terminal; plain periodic lines
// otherwise (CI logs, files), so a long run is never silent until the end. Thread-safe:
// workers report from their own threads.
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
  // `plain`: whole lines (no \r or escape codes) every `interval` instead of a redrawn bar.
  ProgressBar(bool enabled, std::string label, int64_t total_units, int64_t total_bytes,
              bool plain = false, std::chrono::milliseconds interval = std::chrono::seconds(10));
  ~ProgressBar() override;
  // One more unit (layer) done, `bytes` of its input processed, `what` the layer's name.
  void Advance(int64_t bytes, const std::string& what) override;
  // Clears the line.
  void Finish() override;

  static bool StderrIsTerminal();
  // Progress for the pipeline's models: a bar on a terminal, plain lines every 10 s
  // elsewhere (HTSR_PROGRESS_SECONDS sets the interval; 0: every layer); an empty factory
  // (no progress) unless `enabled`.
  static analysis::LayerProgressFactory Factory(bool enabled);

 private:
  void Draw();
  void PrintLine(bool final_line);
  bool enabled_;
  bool plain_;
  std::chrono::milliseconds interval_;
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
