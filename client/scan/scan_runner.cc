#include "scan/scan_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "analysis/base_delta.h"
#include "htsr/base/parallel_for.h"
#include "output/summary_fields.h"
#include "scan/content_hash.h"
#include "scan/manifest.h"
#include "scan/scan_progress.h"

namespace htsr::scan {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

absl::StatusOr<ScanStats> RunScan(const std::vector<ScanItem>& items, ScanStore& store,
                                  const analysis::CheckpointAnalyzer& analyzer,
                                  const ScanOptions& options, std::ostream& log) {
  const auto start = std::chrono::steady_clock::now();
  ScanStats stats;
  stats.total = static_cast<int64_t>(items.size());
  ScanProgress progress(options.progress, stats.total);
  std::mutex mu;  // stats, log, first_error
  absl::Status first_error;
  std::atomic<bool> stop{false};
  auto cancelled = [&] {
    return stop.load() || (options.cancel != nullptr && options.cancel->load());
  };

  auto one = [&](const ScanItem& item) -> absl::Status {
    CheckpointRecord rec;
    rec.item = item;
    rec.options_key = options.options_key;
    const auto hash_start = std::chrono::steady_clock::now();
    absl::StatusOr<ContentHash> hash = HashCheckpoint(item.path);
    // A base model (manifest column "base"): its content is part of what the row means.
    std::string base_path;
    for (const auto& [name, value] : item.extra) {
      if (name == kBaseColumn) base_path = value;
    }
    if (hash.ok() && !base_path.empty()) {
      absl::StatusOr<ContentHash> base_hash = HashCheckpoint(base_path);
      if (!base_hash.ok()) {
        hash = analysis::BaseModelError(base_hash.status(), base_path);
      } else {
        rec.options_key = absl::StrCat(rec.options_key, ";base=", base_hash->sha256);
      }
    }
    rec.hash_seconds = Since(hash_start);
    absl::StatusOr<analysis::AnalyzedCheckpoint> result;
    if (!hash.ok()) {
      result = hash.status();
    } else {
      rec.content_hash = hash->sha256;
      rec.bytes = hash->bytes;
      if (!options.force) {
        absl::StatusOr<bool> done = store.IsDone(item.path, hash->sha256, rec.options_key);
        if (!done.ok()) return done.status();
        if (*done) {
          std::lock_guard<std::mutex> lock(mu);
          ++stats.skipped;
          stats.bytes += rec.bytes;
          progress.Finished(ScanProgress::Outcome::kSkipped, rec.bytes);
          return absl::OkStatus();
        }
      }
      const auto analyze_start = std::chrono::steady_clock::now();
      try {
        if (base_path.empty()) {
          result = analyzer(item.path);
        } else if (options.base_analyzer == nullptr) {
          result = absl::FailedPreconditionError("a base column needs a base analyzer");
        } else {
          result = (*options.base_analyzer)(item.path, base_path);
        }
      } catch (const std::exception& e) {
        // No exception crosses a job boundary: it is this checkpoint's failure.
        result = absl::InternalError(absl::StrCat("analysis threw: ", e.what()));
      }
      rec.analyze_seconds = Since(analyze_start);
      // The row is keyed on the hash taken before the analysis: it may only say "done" for
      // those bytes. A checkpoint rewritten meanwhile (a download, a training job) would
      // otherwise store the new bytes' numbers under the old bytes' hash, and a resumed scan
      // would trust them. So the checkpoint is hashed again (and its files' size and mtime
      // compared) and fails unless nothing moved.
      if (result.ok()) {
        const auto recheck_start = std::chrono::steady_clock::now();
        if (absl::Status same = CheckUnchanged(item.path, *hash); !same.ok()) result = same;
        rec.hash_seconds += Since(recheck_start);
      }
    }
    if (result.ok()) {
      rec.ok = true;
      rec.report = &result->report;
      rec.server = result->server;
      rec.attempts = result->attempts;
    } else {
      rec.ok = false;
      rec.error = std::string(result.status().message());
    }
    if (absl::Status s = store.Record(rec); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu);
    stats.bytes += rec.bytes;
    if (rec.ok) {
      ++stats.ok;
      if (!output::HasSummaryValues(rec.report->summary)) {
        // Stored with status "empty" and no summary values; rankings leave it out.
        ++stats.empty;
        if (!options.quiet) {
          if (options.progress) log << "\r\033[K";
          log << "empty: " << item.path << ": " << output::EmptySummaryReason(rec.report->summary)
              << "\n";
        }
      }
    } else {
      ++stats.failed;
      if (!options.quiet) {
        if (options.progress) log << "\r\033[K";
        // Reader errors already start with the path; do not print it twice.
        log << "failed: "
            << (absl::StartsWith(rec.error, item.path) ? rec.error
                                                       : absl::StrCat(item.path, ": ", rec.error))
            << "\n";
      }
    }
    progress.Finished(rec.ok ? ScanProgress::Outcome::kDone : ScanProgress::Outcome::kFailed,
                      rec.bytes);
    return absl::OkStatus();
  };

  // Items not started when the scan is cancelled or fails are passed over (not_started).
  auto run = [&](size_t i) {
    if (cancelled()) return;
    absl::Status s = one(items[i]);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = s;
      stop = true;
    }
  };
  ParallelFor(items.size(), std::max(1, options.jobs), run);
  progress.Finish();

  if (!first_error.ok()) return first_error;
  stats.not_started = stats.total - stats.ok - stats.failed - stats.skipped;
  stats.cancelled = stats.not_started > 0;
  stats.seconds = Since(start);
  return stats;
}

}  // namespace htsr::scan
