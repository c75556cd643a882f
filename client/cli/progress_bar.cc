#include "cli/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace htsr::cli {
namespace {

int TerminalWidth() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col;
  return 80;
}

std::string Duration(double s) {
  if (s < 60) return absl::StrFormat("%.0fs", s);
  if (s < 3600)
    return absl::StrFormat("%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return absl::StrFormat("%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
}

}  // namespace

bool ProgressBar::StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

analysis::LayerProgressFactory ProgressBar::Factory(bool enabled) {
  if (!enabled) return {};
  const bool plain = !StderrIsTerminal();
  std::chrono::milliseconds interval = std::chrono::seconds(10);
  if (const char* env = std::getenv("HTSR_PROGRESS_SECONDS"); env != nullptr) {
    double s = 0;
    if (absl::SimpleAtod(env, &s) && s >= 0 && s < 1e6) {
      interval = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    }
  }
  return [plain, interval](const std::string& label, int64_t layers, int64_t total_cost) {
    return std::make_unique<ProgressBar>(true, label, layers, total_cost, plain, interval);
  };
}

ProgressBar::ProgressBar(bool enabled, std::string label, int64_t total_units, int64_t total_bytes,
                         bool plain, std::chrono::milliseconds interval)
    : enabled_(enabled && total_units > 0),
      plain_(plain),
      interval_(interval),
      label_(std::move(label)),
      total_units_(total_units),
      total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()) {
  last_draw_ = start_;
  if (!enabled_) return;
  if (plain_) {
    std::fprintf(stderr, "htsr: %s: analysing %lld layer%s\n", label_.c_str(),
                 static_cast<long long>(total_units_), total_units_ == 1 ? "" : "s");
    std::fflush(stderr);
  } else {
    Draw();
  }
}

void ProgressBar::PrintLine(bool final_line) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double frac = total_bytes_ > 0
                          ? static_cast<double>(done_bytes_) / static_cast<double>(total_bytes_)
                          : static_cast<double>(done_units_) / static_cast<double>(total_units_);
  std::string line =
      final_line ? absl::StrFormat("htsr: %s: %d/%d layers done in %s", label_, done_units_,
                                   total_units_, Duration(elapsed))
                 : absl::StrFormat(
                       "htsr: %s: %d/%d layers (%.0f%%), %s elapsed, ETA %s, last %s", label_,
                       done_units_, total_units_, 100 * frac, Duration(elapsed),
                       frac > 0 && frac < 1 ? Duration(elapsed * (1 - frac) / frac) : "--", last_);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Advance(int64_t bytes, const std::string& what) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++done_units_;
  done_bytes_ += bytes;
  last_ = what;
  const auto now = std::chrono::steady_clock::now();
  if (plain_) {
    // A line per interval (CI logs): the last layer's line is Finish's.
    if (done_units_ < total_units_ && now - last_draw_ >= interval_) PrintLine(false);
    return;
  }
  // Redraw at most ~10 times a second: cheap even for models with thousands of layers.
  if (done_units_ == total_units_ || now - last_draw_ > std::chrono::milliseconds(100)) Draw();
}

void ProgressBar::Draw() {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  // ETA from bytes when known (layers differ wildly in cost), else from layer count.
  const double frac = total_bytes_ > 0
                          ? static_cast<double>(done_bytes_) / static_cast<double>(total_bytes_)
                          : static_cast<double>(done_units_) / static_cast<double>(total_units_);
  const std::string eta = frac > 0 && frac < 1 ? Duration(elapsed * (1 - frac) / frac) : "--";
  const int width = TerminalWidth();
  const int bar_w = std::clamp(width / 4, 10, 30);
  const int filled = static_cast<int>(frac * bar_w);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(bar_w), '.');
  std::string line = absl::StrFormat("%s [%s] %d/%d layers  %s elapsed  ETA %s  %s", label_, bar,
                                     done_units_, total_units_, Duration(elapsed), eta, last_);
  if (static_cast<int>(line.size()) > width - 1) line.resize(static_cast<size_t>(width - 1));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (plain_) {
    PrintLine(true);
    return;
  }
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace htsr::cli
