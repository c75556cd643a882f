// htsr scan INPUT... : analyse many checkpoints into a resumable SQLite database.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/str_format.h"
#include "analysis/checkpoint_analyzer.h"
#include "analysis/remote_pool.h"
#include "cli/analysis_flags.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "cli/server_flags.h"
#include "scan/interrupt.h"
#include "scan/manifest.h"
#include "scan/options_key.h"
#include "scan/scan_inputs.h"
#include "scan/scan_runner.h"
#include "scan/scan_store.h"

namespace htsr::cli {
namespace {

constexpr int kExitInterrupted = 130;

}  // namespace

int RunScan(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  std::ostream& out = inv.out;
  std::ostream& err = inv.err;
  auto usage = [&err](const absl::Status& s) {
    err << "htsr scan: " << s.message() << "\n";
    return kExitUsage;
  };
  if (args.positionals().empty() && !args.Has("manifest")) {
    err << "htsr scan: no INPUT and no --manifest (see 'htsr scan --help')\n";
    return kExitUsage;
  }
  auto pool = cli::RemotePoolOptionsFromArgs(args);
  if (!pool.ok()) return usage(pool.status());
  const bool remote = !pool->server.empty();
  auto jobs = args.GetInt("jobs", remote ? 4 : 1, 1, 1024);
  if (!jobs.ok()) return usage(jobs.status());
  auto config = EngineConfigFromArgs(args);
  if (!config.ok()) return usage(config.status());
  auto filter = LayerFilterFromArgs(args);
  if (!filter.ok()) return usage(filter.status());
  // Jobs share the cores: each gets its slice unless --threads says otherwise.
  if (!args.Has("threads")) {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    config->threads = std::max(1, hw / static_cast<int>(*jobs));
  }

  std::vector<scan::ScanItem> items;
  if (auto m = args.Get("manifest")) {
    auto listed = scan::ReadManifest(*m);
    if (!listed.ok()) return usage(listed.status());
    items = *std::move(listed);
  }
  if (!args.positionals().empty()) {
    auto found = scan::ExpandInputs(args.positionals());
    if (!found.ok()) return usage(found.status());
    items = scan::MergeItems(std::move(items), *std::move(found));
  }
  if (items.empty()) {
    err << "htsr scan: the manifest lists no checkpoints\n";
    return kExitUsage;
  }
  // The database keys checkpoints by absolute path: a scan resumed from another directory
  // must find the same rows.
  for (scan::ScanItem& item : items) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(item.path, ec);
    if (!ec) item.path = abs.lexically_normal().string();
  }
  items = scan::MergeItems(std::move(items), {});

  const std::string db_path = args.GetOr("db", "scan.sqlite");
  auto store = scan::ScanStore::Open(db_path);
  if (!store.ok()) return usage(store.status());

  std::unique_ptr<Engine> engine;
  std::string note;
  const bool quiet = args.Has("quiet");
  // Per-checkpoint progress is the scan's own bar, not one per model.
  auto made =
      analysis::MakeCheckpointAnalyzer(*pool, *config, *filter, /*progress=*/{}, &engine, &note);
  if (!made.ok()) return usage(made.status());
  const analysis::CheckpointAnalyzer analyzer = *std::move(made);
  if (!quiet && !note.empty()) err << "htsr: " << note << "\n";

  scan::ScopedInterruptHandler interrupt;
  scan::ScanOptions options;
  options.jobs = static_cast<int>(*jobs);
  options.options_key = scan::OptionsKey(config->options, args.GetOr("layers", ""));
  options.force = args.Has("force");
  options.quiet = quiet;
  options.progress = !quiet && ProgressBar::StderrIsTerminal();
  options.cancel = &interrupt.requested();
  // Rows with a manifest base column are analysed against it (analyze --base).
  auto with_base = analysis::MakeBaseCheckpointAnalyzer(*pool, config->options, *filter,
                                                        /*progress=*/{}, engine.get());
  if (!with_base.ok()) return usage(with_base.status());
  options.base_analyzer = &*with_base;
  auto stats = scan::RunScan(items, **store, analyzer, options, err);
  if (!stats.ok()) return usage(stats.status());

  out << absl::StrFormat(
      "%d checkpoints: %d ok%s, %d failed, %d skipped (already done)%s in %.2f s (%.2f "
      "checkpoints/s analysed) -> %s\n",
      stats->total, stats->ok,
      stats->empty > 0
          ? absl::StrFormat(" (%d empty: no layer analysed, no summary values; rank and "
                            "compare leave them out)",
                            stats->empty)
          : std::string(),
      stats->failed, stats->skipped,
      stats->cancelled ? absl::StrFormat(", %d not started (interrupted)", stats->not_started)
                       : std::string(),
      stats->seconds,
      stats->seconds > 0 ? static_cast<double>(stats->ok + stats->failed) / stats->seconds : 0.0,
      db_path);
  out.flush();
  if (stats->cancelled) return kExitInterrupted;
  return stats->failed > 0 ? kExitLayersFailed : kExitOk;
}

}  // namespace htsr::cli
