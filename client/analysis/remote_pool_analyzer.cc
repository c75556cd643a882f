// Remote analysis over a server pool, with retries on another server (see remote_pool.h).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "analysis/base_delta.h"
#include "analysis/pool_target.h"
#include "analysis/reader_source.h"
#include "analysis/remote_pool.h"
#include "htsr/engine.h"
#include "htsr/status_macros.h"
#include "readers/checkpoint_reader.h"
#include "remote/remote_analyzer.h"

namespace htsr::analysis {
namespace {

// How long a server whose call failed the way a server fails (gone, frozen, stream broken)
// is passed over while another member is available.
constexpr double kQuarantineSeconds = 30;

// The servers of a pool, each with its own channel, and the choice of the server of each
// attempt: rotating, preferring members whose connection is READY and that have not failed
// recently, so a retry does not land on the server that just failed (round_robin over one
// channel keeps a frozen server's connection READY and keeps picking it).
class PoolMembers {
 public:
  struct Member {
    RemoteOptions remote;  // address = this member's target, channel = its own
    std::atomic<int64_t> bad_until_ns{0};
  };

  static absl::StatusOr<std::shared_ptr<PoolMembers>> Open(const RemoteOptions& base,
                                                           const std::string& server) {
    HTSR_ASSIGN_OR_RETURN(std::vector<std::string> targets, PoolMemberTargets(server));
    auto pool = std::make_shared<PoolMembers>();
    pool->members_ = std::vector<Member>(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      RemoteOptions r = base;
      r.address = targets[i];
      HTSR_ASSIGN_OR_RETURN(r.channel, OpenRemoteChannel(r));
      RemoteChannelReady(*r.channel, /*try_to_connect=*/true);  // connect now, not on first use
      pool->members_[i].remote = std::move(r);
    }
    return pool;
  }

  // The member for the next attempt.
  Member& Pick() {
    const size_t n = members_.size();
    const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = Now();
    // Ready and not failing, then not failing (connecting), then the one failed longest ago.
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t k = 0; k < n; ++k) {
        Member& m = members_[(start + k) % n];
        if (m.bad_until_ns.load() > now) continue;
        if (pass == 0 && !RemoteChannelReady(*m.remote.channel, true)) continue;
        return m;
      }
    }
    Member* best = &members_[start % n];
    for (Member& m : members_) {
      if (m.bad_until_ns.load() < best->bad_until_ns.load()) best = &m;
    }
    return *best;
  }

  static void Failed(Member& m) {
    m.bad_until_ns.store(Now() + static_cast<int64_t>(kQuarantineSeconds * 1e9));
  }
  static void Succeeded(Member& m) { m.bad_until_ns.store(0); }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  std::vector<Member> members_;
  std::atomic<size_t> next_{0};
};

// The pool's connection options (one channel per member is opened by PoolMembers::Open).
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
  remote.keep_evals = pool.keep_evals;
  return remote;
}

// One remote analysis of `source`, each attempt on the member PoolMembers picks, retried
// with jittered exponential backoff when the failure is the server's (IsRetryable).
// `after_attempt` runs after every attempt, whatever it returned (the caller's check that
// its file did not change underneath: then no retry can help). `*attempts` counts calls;
// `*address` is the member of the last attempt.
absl::StatusOr<std::vector<LayerResult>> AnalyzeWithRetries(
    PoolMembers& members, const RemotePoolOptions& pool, const std::string& path,
    const AnalysisOptions& options, const TensorSource& source, const ModelCallbacks& callbacks,
    const std::function<absl::Status()>& after_attempt, std::string* peer, std::string* address,
    int* attempts) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  double backoff = pool.backoff_seconds;
  absl::Status last;
  int attempt = 0;
  while (++attempt <= pool.max_attempts) {
    ++*attempts;
    PoolMembers::Member& member = members.Pick();
    *address = member.remote.address;
    absl::StatusOr<std::vector<LayerResult>> layers =
        AnalyzeRemote(member.remote, path, options, source, callbacks, nullptr, peer);
    if (layers.ok()) {
      PoolMembers::Succeeded(member);
    } else if (IsRetryable(layers.status()) &&
               layers.status().code() != absl::StatusCode::kResourceExhausted) {
      PoolMembers::Failed(member);  // busy is not failed: it may have room next time
    }
    if (after_attempt) HTSR_RETURN_IF_ERROR(after_attempt());
    if (layers.ok()) return layers;
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
}

}  // namespace

absl::StatusOr<CheckpointAnalyzer> MakeRemoteAnalyzer(const RemotePoolOptions& pool,
                                                      const AnalysisOptions& options,
                                                      analysis::LayerFilter filter) {
  HTSR_ASSIGN_OR_RETURN(RemoteOptions remote, PoolRemoteOptions(pool));
  // Channels for the whole scan, one per member (one for a DNS name, where round_robin
  // rotates over what it resolves to): connections are reused from call to call.
  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<PoolMembers> members,
                        PoolMembers::Open(remote, pool.server));

  return [members, options, filter = std::move(filter),
          pool](const std::string& path) -> absl::StatusOr<AnalyzedCheckpoint> {
    const auto start = std::chrono::steady_clock::now();
    // A checkpoint that cannot be opened is its own failure: no server can help.
    HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader, OpenCheckpoint(path));
    const TensorSource source = ReaderSource(*reader);
    const CheckpointReader* r = reader.get();
    HTSR_RETURN_IF_ERROR(filter.CheckSelectsAny(PlanModel(source.tensors, options), path));

    ModelCallbacks callbacks;
    callbacks.select = [&filter](const LayerPlan& p) { return filter.Selects(p); };

    std::string peer, address;
    int attempts = 0;
    // What was streamed after the file shrank under its mapping was zeros: whatever the
    // server answered, the checkpoint fails, naming the file, and no retry can help.
    HTSR_ASSIGN_OR_RETURN(std::vector<LayerResult> layers,
                          AnalyzeWithRetries(
                              *members, pool, path, options, source, callbacks,
                              [r] { return r->CheckIntact(); }, &peer, &address, &attempts));
    AnalyzedCheckpoint out;
    // The server analyses only the selected layers; filtering again keeps the rows
    // exactly embedded mode's should a server ignore the selection.
    for (LayerResult& l : layers) {
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
    out.server = peer.empty() ? address : peer;
    out.attempts = attempts;
    return out;
  };
}

// The client forms W - W_base and streams it as an ordinary model: the wire contract and
// the server stay as they are, distances are computed here on the way, and the delta_*
// columns come from two more calls (the model, the base), each layer by layer.
absl::StatusOr<BaseCheckpointAnalyzer> MakeRemoteBaseAnalyzer(const RemotePoolOptions& pool,
                                                              const AnalysisOptions& options,
                                                              analysis::LayerFilter filter) {
  HTSR_ASSIGN_OR_RETURN(RemoteOptions remote, PoolRemoteOptions(pool));
  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<PoolMembers> members,
                        PoolMembers::Open(remote, pool.server));
  return [members, options, filter = std::move(filter), pool](
             const std::string& path,
             const std::string& base_path) -> absl::StatusOr<AnalyzedCheckpoint> {
    std::string peer, address;
    int attempts = 0;
    const LayerRunner run = [&](const TensorSource& source, const ModelCallbacks& callbacks) {
      return AnalyzeWithRetries(*members, pool, path, options, source, callbacks, {}, &peer,
                                &address, &attempts);
    };
    HTSR_ASSIGN_OR_RETURN(model::ModelReport report,
                          AnalyzeAgainstBase(path, base_path, options, run, {filter, {}}));
    report.backend = absl::StrCat("remote ", peer);
    AnalyzedCheckpoint out;
    out.report = std::move(report);
    out.server = peer.empty() ? address : peer;
    out.attempts = attempts;
    return out;
  };
}

}  // namespace htsr::analysis
