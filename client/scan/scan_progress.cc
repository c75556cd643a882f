#include "scan/scan_progress.h"

#include <cstdio>

#include "absl/strings/str_format.h"

namespace htsr::scan {
namespace {

std::string Duration(double s) {
  if (s < 60) return absl::StrFormat("%.0fs", s);
  if (s < 3600)
    return absl::StrFormat("%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return absl::StrFormat("%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
}

std::string Rate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) return absl::StrFormat("%.1f GB/s", bytes_per_s / 1e9);
  if (bytes_per_s >= 1e6) return absl::StrFormat("%.1f MB/s", bytes_per_s / 1e6);
  return absl::StrFormat("%.0f kB/s", bytes_per_s / 1e3);
}

}  // namespace

ScanProgress::ScanProgress(bool enabled, int64_t total)
    : enabled_(enabled && total > 0), total_(total), start_(std::chrono::steady_clock::now()) {
  if (enabled_) {
    absl::MutexLock lock(&mu_);
    DrawLocked();
  }
}

ScanProgress::~ScanProgress() { Finish(); }

void ScanProgress::Finished(Outcome outcome, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  switch (outcome) {
    case Outcome::kDone:
      ++done_;
      analysed_bytes_ += bytes;
      break;
    case Outcome::kFailed:
      ++failed_;
      analysed_bytes_ += bytes;
      break;
    case Outcome::kSkipped:
      ++skipped_;
      break;
  }
  bytes_ += bytes;
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ + failed_ + skipped_ == total_ || now - last_draw_ > std::chrono::milliseconds(100)) {
    DrawLocked();
  }
}

std::string ScanProgress::Line(double elapsed) const {
  absl::MutexLock lock(&mu_);
  return LineLocked(elapsed);
}

std::string ScanProgress::LineLocked(double elapsed) const {
  const int64_t finished = done_ + failed_ + skipped_;
  const int64_t analysed = done_ + failed_;
  const int64_t left = total_ - finished;
  // ETA from the mean time per analysed checkpoint.
  std::string eta = "--";
  if (analysed > 0 && left > 0)
    eta = Duration(elapsed / static_cast<double>(analysed) * static_cast<double>(left));
  if (left == 0) eta = "0s";
  constexpr int kBar = 24;
  const int filled = total_ > 0 ? static_cast<int>(kBar * finished / total_) : 0;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBar, '.');
  return absl::StrFormat("scan [%s] %d/%d  ok %d  failed %d  skipped %d  %s  ETA %s", bar, finished,
                         total_, done_, failed_, skipped_,
                         Rate(elapsed > 0 ? static_cast<double>(analysed_bytes_) / elapsed : 0),
                         eta);
}

void ScanProgress::DrawLocked() {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  std::fprintf(stderr, "\r\033[K%s", LineLocked(elapsed).c_str());
  std::fflush(stderr);
}

void ScanProgress::Finish() {
  absl::MutexLock lock(&mu_);
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace htsr::scan
