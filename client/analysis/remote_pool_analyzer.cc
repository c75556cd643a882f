// Remote analysis over a server pool, with retries on another server (see remote_pool.h).
#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "analysis/base_delta.h"
#include "analysis/pool_target.h"
#include "analysis/remote_pool.h"
#include "htsr/engine.h"
#include "htsr/status_macros.h"
#include "readers/checkpoint_reader.h"
#include "remote/remote_analyzer.h"

namespace htsr::analysis {
namespace {

absl::StatusOr<RemoteOptions> PoolRemoteOptions(const RemotePoolOptions& pool) {
  if (pool.max_attempts < 1) return absl::InvalidArgumentError("max_attempts must be >= 1");
  RemoteOptions remote;
  HTSR_ASSIGN_OR_RETURN(remote.address, PoolTarget(pool.server));
  remote.load_balancing_policy = "round_robin";
  remote.tls_ca_file = pool.tls_ca_file;
  remote.tls_cert_file = pool.tls_cert_file;
  remote.tls_key_file = pool.tls_key_file;
  remote.tls_server_name = pool.tls_server_name;
  remote.token = pool.token;
  remote.deadline_seconds = pool.deadline_seconds;
  remote.streams = pool.streams;
  // One channel for the whole scan: round_robin rotates over the pool only within a
  // channel, and its connections are reused from call to call.
  HTSR_ASSIGN_OR_RETURN(remote.channel, OpenRemoteChannel(remote));
  return remote;
}

// One remote analysis of `source`, retried on another server with jittered exponential
// backoff when the failure is the server's (IsRetryable). `*attempts` counts the calls.
absl::StatusOr<std::vector<LayerResult>> AnalyzeWithRetries(
    const RemoteOptions& remote, const RemotePoolOptions& pool, const std::string& path,
    const AnalysisOptions& options, const TensorSource& source, const ModelCallbacks& callbacks,
    std::string* peer, int* attempts) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  double backoff = pool.backoff_seconds;
  absl::Status last;
  int attempt = 0;
  while (++attempt <= pool.max_attempts) {
    ++*attempts;
    absl::StatusOr<std::vector<LayerResult>> layers =
        AnalyzeRemote(remote, path, options, source, callbacks, nullptr, peer);
    if (layers.ok()) return layers;
    last = layers.status();
    if (!IsRetryable(last) || attempt == pool.max_attempts) break;
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff * jitter(rng)));
    backoff = std::min(backoff * 2, 5.0);
  }
  return absl::Status(last.code(),
                      absl::StrCat(last.message(), " (", std::min(attempt, pool.max_attempts),
                                   " attempt", attempt > 1 ? "s" : "", ")"));
}

}  // namespace

absl::StatusOr<CheckpointAnalyzer> MakeRemoteAnalyzer(const RemotePoolOptions& pool,
                                                      const AnalysisOptions& options,
                                                      analysis::LayerFilter filter) {
  HTSR_ASSIGN_OR_RETURN(RemoteOptions remote, PoolRemoteOptions(pool));
  return [remote, options, filter = std::move(filter),
          pool](const std::string& path) -> absl::StatusOr<AnalyzedCheckpoint> {
    const auto start = std::chrono::steady_clock::now();
    // A checkpoint that cannot be opened is its own failure: no server can help.
    HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader, OpenCheckpoint(path));
    TensorSource source;
    source.tensors = reader->Tensors();
    const CheckpointReader* r = reader.get();
    source.load = [r](size_t i) -> absl::StatusOr<TensorView> {
      HTSR_RETURN_IF_ERROR(r->CheckIntact());  // a file that shrank is not streamed further
      return r->Load(i);
    };
    HTSR_RETURN_IF_ERROR(filter.CheckSelectsAny(PlanModel(source.tensors, options), path));

    ModelCallbacks callbacks;
    callbacks.select = [&filter](const LayerPlan& p) { return filter.Selects(p); };

    thread_local std::mt19937_64 rng(std::random_device{}());
    double backoff = pool.backoff_seconds;
    absl::Status last;
    int attempt = 0;
    while (++attempt <= pool.max_attempts) {
      std::string peer;
      absl::StatusOr<std::vector<LayerResult>> layers =
          AnalyzeRemote(remote, path, options, source, callbacks, nullptr, &peer);
      // What was streamed after the file shrank under its mapping was zeros: whatever the
      // server answered, the checkpoint fails, naming the file, and no retry can help.
      HTSR_RETURN_IF_ERROR(reader->CheckIntact());
      if (layers.ok()) {
        AnalyzedCheckpoint out;
        // The server analyses only the selected layers; filtering again keeps the rows
        // exactly embedded mode's should a server ignore the selection.
        for (LayerResult& l : *layers) {
          if (filter.Selects(l.plan)) out.report.layers.push_back(std::move(l));
        }
        out.report.path = path;
        out.report.format = std::string(reader->Format());
        out.report.backend = absl::StrCat("remote ", peer);
        out.report.bytes = reader->TotalBytes();
        out.report.notes = reader->Notes();
        out.report.summary = Summarize(out.report.layers);
        out.report.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out.server = peer.empty() ? remote.address : peer;
        out.attempts = attempt;
        return out;
      }
      last = layers.status();
      if (!IsRetryable(last) || attempt == pool.max_attempts) break;
      // Jittered exponential backoff: retries of many jobs do not land on the pool at once.
      std::uniform_real_distribution<double> jitter(0.5, 1.5);
      std::this_thread::sleep_for(std::chrono::duration<double>(backoff * jitter(rng)));
      backoff = std::min(backoff * 2, 5.0);
    }
    return absl::Status(last.code(),
                        absl::StrCat(last.message(), " (", std::min(attempt, pool.max_attempts),
                                     " attempt", attempt > 1 ? "s" : "", ")"));
  };
}

// The client forms W - W_base and streams it as an ordinary model: the wire contract and
// the server stay as they are, distances are computed here on the way, and the delta_*
// columns come from two more calls (the model, the base), each layer by layer.
absl::StatusOr<BaseCheckpointAnalyzer> MakeRemoteBaseAnalyzer(const RemotePoolOptions& pool,
                                                              const AnalysisOptions& options,
                                                              analysis::LayerFilter filter) {
  HTSR_ASSIGN_OR_RETURN(RemoteOptions remote, PoolRemoteOptions(pool));
  return [remote, options, filter = std::move(filter), pool](
             const std::string& path,
             const std::string& base_path) -> absl::StatusOr<AnalyzedCheckpoint> {
    std::string peer;
    int attempts = 0;
    const LayerRunner run = [&](const TensorSource& source, const ModelCallbacks& callbacks) {
      return AnalyzeWithRetries(remote, pool, path, options, source, callbacks, &peer, &attempts);
    };
    HTSR_ASSIGN_OR_RETURN(model::ModelReport report,
                          AnalyzeAgainstBase(path, base_path, options, run, {filter, {}}));
    report.backend = absl::StrCat("remote ", peer);
    AnalyzedCheckpoint out;
    out.report = std::move(report);
    out.server = peer.empty() ? remote.address : peer;
    out.attempts = attempts;
    return out;
  };
}

}  // namespace htsr::analysis
