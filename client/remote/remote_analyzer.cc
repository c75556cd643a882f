#include "remote/remote_analyzer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "convert/grpc_status.h"
#include "convert/proto_convert.h"
#include "htsr/base/checked_math.h"
#include "htsr/base/parallel_for.h"
#include "htsr/status_macros.h"
#include "htsr/v1/analysis.grpc.pb.h"
#include "remote/layer_split.h"

namespace htsr {

class RemoteChannel {
 public:
  explicit RemoteChannel(std::vector<std::shared_ptr<grpc::Channel>> channels)
      : channels_(std::move(channels)) {}
  // The channel of stream `k` (one per RemoteOptions::streams; wraps around).
  const std::shared_ptr<grpc::Channel>& get(size_t k) const {
    return channels_[k % channels_.size()];
  }
  const std::vector<std::shared_ptr<grpc::Channel>>& all() const { return channels_; }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Channel `index` of `remote`. Channels with different arguments never share a
// connection, so each stream index gets a TCP connection (and a server read thread) of
// its own, and each retry (`attempt` > 0) a fresh one: not a connection still waiting out
// gRPC's reconnect backoff (1 s and up) after the failure it is retrying.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const RemoteOptions& remote, int index,
                                                           int attempt = 0) {
  if (remote.channel) return remote.channel->get(static_cast<size_t>(index));
  if (remote.address.empty()) return absl::InvalidArgumentError("no server address");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // spectra (keep_evals) can be large
  args.SetMaxSendMessageSize(-1);
  if (index > 0) args.SetInt("htsr.stream_connection", index);
  if (attempt > 0) args.SetInt("htsr.connect_attempt", attempt);
  // Keepalive: a peer that stops answering pings (frozen process, dead host whose socket
  // stays open) closes the connection, so its calls fail and round_robin drops it instead
  // of queueing calls on it forever. htsr-server accepts pings this often (htsr_server.cc).
  if (remote.keepalive_time_ms > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, remote.keepalive_time_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, std::max(1, remote.keepalive_timeout_ms));
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (remote.tls_ca_file.empty() && remote.tls_cert_file.empty()) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!remote.tls_ca_file.empty()) {
      HTSR_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadWholeFile(remote.tls_ca_file, "TLS CA file"));
    }
    if (!remote.tls_cert_file.empty()) {
      HTSR_ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                            ReadWholeFile(remote.tls_cert_file, "TLS client certificate"));
      HTSR_ASSIGN_OR_RETURN(ssl.pem_private_key,
                            ReadWholeFile(remote.tls_key_file, "TLS client key"));
    }
    if (!remote.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(remote.tls_server_name);
    }
    creds = grpc::SslCredentials(ssl);
  }
  if (!remote.load_balancing_policy.empty()) {
    args.SetServiceConfigJSON(
        absl::StrCat(R"({"loadBalancingConfig":[{")", remote.load_balancing_policy, R"(":{}}]})"));
  }
  return grpc::CreateCustomChannel(remote.address, creds, args);
}

}  // namespace

double DefaultDeadlineSeconds(const RemoteOptions& remote, uint64_t bytes) {
  if (remote.deadline_seconds > 0) return remote.deadline_seconds;
  if (!(remote.deadline_min_bytes_per_second > 0)) return 0;
  return std::max(0.0, remote.deadline_base_seconds) +
         static_cast<double>(bytes) / remote.deadline_min_bytes_per_second;
}

namespace {

// The whole call's deadline (every retry of it included) for a call sending `bytes`;
// nullopt = none.
std::optional<std::chrono::system_clock::time_point> CallDeadline(const RemoteOptions& remote,
                                                                  uint64_t bytes) {
  const double seconds = std::min(DefaultDeadlineSeconds(remote, bytes), 365 * 86400.0);
  if (!(seconds > 0)) return std::nullopt;
  return std::chrono::system_clock::now() +
         std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
}

// The per-message progress watchdog of one call (RemoteOptions::stall_seconds): Progress()
// on every message read and every write completed; after stall_seconds without, a
// GetServerInfo probe on the same channel decides between a busy server (answers: wait on)
// and a frozen one (no answer within probe_seconds: cancel the call, stalled() = true).
class ProgressWatchdog {
 public:
  ProgressWatchdog(const RemoteOptions& remote, std::shared_ptr<grpc::Channel> channel,
                   grpc::ClientContext* context)
      : remote_(remote), channel_(std::move(channel)), context_(context) {
    Progress();
    if (remote_.stall_seconds > 0) thread_ = std::thread([this] { Run(); });
  }
  ~ProgressWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void Progress() {
    last_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                   std::memory_order_relaxed);
  }
  bool stalled() const { return stalled_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  void Run() {
    const auto stall = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(remote_.stall_seconds));
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      const Clock::time_point last(Clock::duration(last_ns_.load(std::memory_order_relaxed)));
      const Clock::time_point due = last + stall;
      if (Clock::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      lock.unlock();
      const bool alive = Probe();
      lock.lock();
      if (stop_) return;
      if (alive) {
        Progress();
        continue;
      }
      stalled_ = true;
      context_->TryCancel();
      return;
    }
  }
  // True unless the server left a probe unanswered (deadline) or is unreachable.
  bool Probe() {
    std::unique_ptr<v1::AnalysisService::Stub> stub = v1::AnalysisService::NewStub(channel_);
    grpc::ClientContext context;
    if (!remote_.token.empty()) context.AddMetadata("authorization", "Bearer " + remote_.token);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(
                             static_cast<int64_t>(std::max(0.1, remote_.probe_seconds) * 1e3)));
    v1::ServerInfo info;
    const grpc::Status s = stub->GetServerInfo(&context, v1::GetServerInfoRequest{}, &info);
    return s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
           s.error_code() != grpc::StatusCode::UNAVAILABLE;
  }

  const RemoteOptions& remote_;
  std::shared_ptr<grpc::Channel> channel_;
  grpc::ClientContext* context_;
  std::atomic<Clock::rep> last_ns_{0};
  std::atomic<bool> stalled_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

absl::Status StalledError(const RemoteOptions& remote) {
  return absl::UnavailableError(absl::StrCat(
      "server ", remote.address, " stopped answering: nothing moved for ", remote.stall_seconds,
      " s and a probe got no answer in ", remote.probe_seconds, " s; call cancelled"));
}

void PrepareContext(const RemoteOptions& remote,
                    const std::optional<std::chrono::system_clock::time_point>& deadline,
                    grpc::ClientContext* context) {
  if (!remote.token.empty()) context->AddMetadata("authorization", "Bearer " + remote.token);
  if (deadline) context->set_deadline(*deadline);
}

absl::Status CallError(const RemoteOptions& remote, const grpc::Status& status) {
  const absl::Status s = FromGrpcStatus(status);
  return absl::Status(s.code(), absl::StrCat("server ", remote.address, ": ", s.message()));
}

using Stream = grpc::ClientReaderWriter<v1::AnalyzeRequest, v1::AnalyzeResponse>;

// Sends every requested tensor, one at a time, in chunks. Returns when done or when the
// stream breaks (the reader side learns why from Finish).
void SendTensors(Stream* stream, const TensorSource& source, const std::vector<uint32_t>& requested,
                 size_t chunk_bytes, ProgressWatchdog* watchdog) {
  for (uint32_t index : requested) {
    const TensorInfo& info = source.tensors[index];
    absl::StatusOr<TensorView> view;
    try {
      view = source.load(index);
    } catch (const std::exception& e) {
      view = absl::InternalError(absl::StrCat("loading tensor: ", e.what()));
    }
    v1::AnalyzeRequest req;
    v1::TensorChunk* chunk = req.mutable_chunk();
    chunk->set_tensor_index(index);
    chunk->set_name(info.name);
    chunk->set_dtype(ToProto(info.dtype));
    for (int64_t d : info.shape) chunk->add_shape(d);
    if (!view.ok()) {
      // The same row embedded AnalyzeModel reports for a load error.
      chunk->set_client_error(std::string(view.status().message()));
      if (!stream->Write(req)) return;
      watchdog->Progress();
      continue;
    }
    const std::span<const std::byte> bytes = view->bytes;
    size_t offset = 0;
    do {
      const size_t n = std::min(chunk_bytes, bytes.size() - offset);
      chunk->set_offset(offset);
      chunk->set_data(reinterpret_cast<const char*>(bytes.data()) + offset, n);
      if (!stream->Write(req)) return;
      watchdog->Progress();
      offset += n;
      // Metadata only on the first chunk.
      chunk->clear_name();
      chunk->clear_dtype();
      chunk->clear_shape();
    } while (offset < bytes.size());
  }
  stream->WritesDone();
}

// What one Analyze call returned.
struct CallResult {
  std::vector<LayerResult> rows;  // in arrival order
  ModelSummary summary;
  std::string peer;
};

// One Analyze call for the layers `layer_ids` (empty = all). `on_row` runs for each row as
// it arrives, on this thread. *answered: whether the server answered at all (its plan).
absl::StatusOr<CallResult> RunCall(const RemoteOptions& remote,
                                   const std::shared_ptr<grpc::Channel>& channel,
                                   grpc::ClientContext* context, const std::string& model_name,
                                   const AnalysisOptions& options, const TensorSource& source,
                                   const std::vector<int32_t>& layer_ids,
                                   const std::function<void(const LayerResult&)>& on_row,
                                   bool* answered) {
  *answered = false;
  std::unique_ptr<v1::AnalysisService::Stub> stub = v1::AnalysisService::NewStub(channel);
  std::unique_ptr<Stream> stream = stub->Analyze(context);
  ProgressWatchdog watchdog(remote, channel, context);

  v1::AnalyzeRequest header_msg;
  v1::AnalyzeHeader* header = header_msg.mutable_header();
  header->set_model_name(model_name);
  *header->mutable_options() = ToProto(options);
  header->set_keep_evals(remote.keep_evals);
  for (const TensorInfo& info : source.tensors) *header->add_tensors() = ToProto(info);
  header->mutable_layer_ids()->Assign(layer_ids.begin(), layer_ids.end());
  stream->Write(header_msg);  // a failure shows up as Read() == false below

  v1::AnalyzeResponse response;
  if (!stream->Read(&response)) {
    const grpc::Status status = stream->Finish();
    if (watchdog.stalled()) return StalledError(remote);
    return CallError(remote, status);
  }
  watchdog.Progress();
  *answered = true;
  if (!response.has_plan()) {
    context->TryCancel();
    stream->Finish();
    return absl::InternalError(
        absl::StrCat("server ", remote.address, ": first response is not the plan"));
  }
  const v1::ModelPlan plan = response.plan();
  std::vector<uint32_t> requested(plan.requested_tensors().begin(), plan.requested_tensors().end());
  for (uint32_t index : requested) {
    if (index >= source.tensors.size()) {
      context->TryCancel();
      stream->Finish();
      return absl::InternalError(absl::StrCat("server ", remote.address, ": plan requests tensor ",
                                              index, " of ", source.tensors.size()));
    }
  }

  // Not a ParallelFor task: the writer pumps this call's requests while this thread reads
  // the responses, for the whole call (a duplex stream needs both sides at once).
  std::thread writer(SendTensors, stream.get(), std::cref(source), std::cref(requested),
                     remote.chunk_bytes, &watchdog);
  CallResult out;
  out.rows.reserve(plan.layers_size());
  absl::Status protocol_error;
  bool got_summary = false;
  while (stream->Read(&response)) {
    watchdog.Progress();
    if (response.has_layer()) {
      absl::StatusOr<LayerResult> r = FromProto(response.layer());
      if (!r.ok()) {
        protocol_error = r.status();
        context->TryCancel();
        continue;
      }
      if (on_row) on_row(*r);
      out.rows.push_back(*std::move(r));
    } else if (response.has_summary()) {
      out.summary = FromProto(response.summary());
      got_summary = true;
    }
  }
  writer.join();
  const grpc::Status status = stream->Finish();
  out.peer = context->peer();
  if (watchdog.stalled()) return StalledError(remote);
  if (!protocol_error.ok()) {
    return absl::InternalError(
        absl::StrCat("server ", remote.address, ": bad result: ", protocol_error.message()));
  }
  if (!status.ok()) return CallError(remote, status);
  // Every planned layer has at least one row (several with pool = false).
  std::set<int> seen;
  for (const LayerResult& r : out.rows) seen.insert(r.plan.layer_id);
  if (!got_summary || seen.size() != static_cast<size_t>(plan.layers_size())) {
    return absl::InternalError(absl::StrCat("server ", remote.address, ": got rows for ",
                                            seen.size(), " of ", plan.layers_size(), " layers",
                                            got_summary ? "" : " and no summary"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<LayerResult>> AnalyzeRemote(const RemoteOptions& remote,
                                                       const std::string& model_name,
                                                       const AnalysisOptions& options,
                                                       const TensorSource& source,
                                                       const ModelCallbacks& callbacks,
                                                       ModelSummary* summary, std::string* peer) {
  if (remote.chunk_bytes == 0) return absl::InvalidArgumentError("chunk_bytes must be > 0");
  if (remote.streams < 1) return absl::InvalidArgumentError("streams must be >= 1");
  // --layers: the ids of the server's plan (PlanModel is deterministic on the metadata).
  std::vector<size_t> tensor_index;
  const std::vector<LayerPlan> all_plans = PlanModel(source.tensors, options, &tensor_index);
  std::vector<LayerPlan> plans;
  std::vector<uint64_t> bytes;
  for (size_t k = 0; k < all_plans.size(); ++k) {
    if (callbacks.select && !callbacks.select(all_plans[k])) continue;
    plans.push_back(all_plans[k]);
    const TensorInfo& t = source.tensors[tensor_index[k]];
    bytes.push_back(all_plans[k].analyse ? t.DataBytes().value_or(0) : 0);
  }
  const bool select_all = plans.size() == all_plans.size();
  if (!select_all && plans.empty()) return std::vector<LayerResult>{};
  std::vector<std::vector<int32_t>> groups = SplitLayersForStreams(plans, bytes, remote.streams);
  // "All layers" is an empty selection, the shortest header. A model without layers still
  // makes its call: the server's answer (auth, TLS, limits) is part of the result.
  if (groups.empty()) groups.emplace_back();
  if (groups.size() == 1 && select_all) groups[0].clear();

  uint64_t total_bytes = 0;
  for (uint64_t b : bytes) total_bytes += b;
  const std::optional<std::chrono::system_clock::time_point> deadline =
      CallDeadline(remote, total_bytes);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (size_t g = 0; g < groups.size(); ++g) {
    HTSR_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                          MakeChannel(remote, static_cast<int>(g)));
    channels.push_back(std::move(channel));
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    PrepareContext(remote, deadline, contexts.back().get());
  }

  // ModelCallbacks promises on_layer calls that never overlap.
  std::mutex callback_mu;
  const std::function<void(const LayerResult&)> on_row = [&](const LayerResult& r) {
    if (!callbacks.on_layer) return;
    std::lock_guard<std::mutex> lock(callback_mu);
    callbacks.on_layer(r);
  };
  std::vector<absl::StatusOr<CallResult>> calls(groups.size(),
                                                absl::UnknownError("call not started"));
  std::mutex error_mu;
  absl::Status first_error;
  auto fail = [&](const absl::Status& status) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (!first_error.ok()) return;
    // The first failure is the cause; the sibling calls are cancelled (their CANCELLED
    // comes later and is not reported).
    first_error = status;
    for (const auto& c : contexts) c->TryCancel();
  };
  // Group g's call, made again after a connection failure (connect_retry_seconds).
  auto call_group = [&](size_t g) -> absl::StatusOr<CallResult> {
    for (size_t attempt = 0;; ++attempt) {
      grpc::ClientContext* context = nullptr;
      if (attempt > 0) {
        HTSR_ASSIGN_OR_RETURN(channels[g],
                              MakeChannel(remote, static_cast<int>(g), static_cast<int>(attempt)));
      }
      {
        std::lock_guard<std::mutex> lock(error_mu);
        if (attempt > 0) {
          if (!first_error.ok()) return absl::CancelledError("another stream of the call failed");
          contexts[g] = std::make_unique<grpc::ClientContext>();  // one per attempt
          PrepareContext(remote, deadline, contexts[g].get());
        }
        context = contexts[g].get();
      }
      bool answered = false;
      absl::StatusOr<CallResult> r = RunCall(remote, channels[g], context, model_name, options,
                                             source, groups[g], on_row, &answered);
      if (r.ok() || answered || r.status().code() != absl::StatusCode::kUnavailable ||
          remote.channel != nullptr || attempt >= remote.connect_retry_seconds.size()) {
        return r;
      }
      const auto pause = std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(remote.connect_retry_seconds[attempt]));
      // No time left for another attempt: the connection failure is the answer.
      if (deadline && std::chrono::system_clock::now() + pause >= *deadline) return r;
      std::this_thread::sleep_for(pause);
    }
  };
  if (groups.size() == 1) {
    // On the caller's thread, as before --streams: exceptions (from on_layer) propagate.
    calls[0] = call_group(0);
    if (!calls[0].ok()) return calls[0].status();
  } else {
    auto run = [&](size_t g) {
      try {
        calls[g] = call_group(g);
      } catch (const std::exception& e) {  // nothing may escape a thread
        calls[g] = absl::InternalError(absl::StrCat("stream ", g, ": ", e.what()));
      }
      if (!calls[g].ok()) fail(calls[g].status());
    };
    // One thread per stream (the caller's among them); a stream whose thread cannot start
    // runs on one of the others after its own call.
    ParallelFor(groups.size(), static_cast<int>(groups.size()), run);
    if (!first_error.ok()) return first_error;
  }

  std::vector<LayerResult> results;
  std::vector<std::string> peers;
  for (absl::StatusOr<CallResult>& c : calls) {
    for (LayerResult& r : c->rows) results.push_back(std::move(r));
    if (std::find(peers.begin(), peers.end(), c->peer) == peers.end()) peers.push_back(c->peer);
  }
  SortInLayerOrder(results);
  if (summary != nullptr) {
    // One call: the server's summary. Several: the same function over all rows, in the same
    // order, as the server (and embedded mode) would compute it.
    *summary = calls.size() == 1 ? calls[0]->summary : Summarize(results);
  }
  if (peer != nullptr) *peer = absl::StrJoin(peers, ",");
  return results;
}

absl::StatusOr<std::shared_ptr<const RemoteChannel>> OpenRemoteChannel(
    const RemoteOptions& remote) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int k = 0; k < std::max(1, remote.streams); ++k) {
    HTSR_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeChannel(remote, k));
    channels.push_back(std::move(channel));
  }
  return std::shared_ptr<const RemoteChannel>(std::make_shared<RemoteChannel>(std::move(channels)));
}

bool RemoteChannelReady(const RemoteChannel& channel, bool try_to_connect) {
  for (const std::shared_ptr<grpc::Channel>& c : channel.all()) {
    if (c->GetState(try_to_connect) != GRPC_CHANNEL_READY) return false;
  }
  return true;
}

absl::StatusOr<RemoteServerInfo> GetRemoteServerInfo(const RemoteOptions& remote) {
  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel, MakeChannel(remote, 0));
  std::unique_ptr<v1::AnalysisService::Stub> stub = v1::AnalysisService::NewStub(channel);
  grpc::ClientContext context;
  PrepareContext(remote, CallDeadline(remote, 0), &context);
  v1::ServerInfo info;
  const grpc::Status status = stub->GetServerInfo(&context, v1::GetServerInfoRequest{}, &info);
  if (!status.ok()) return CallError(remote, status);
  RemoteServerInfo out;
  out.version = info.version();
  out.api_version = info.api_version();
  out.backend = info.backend();
  out.backend_description = info.backend_description();
  out.max_layer_bytes = info.limits().max_layer_bytes();
  out.queue_bytes = info.limits().queue_bytes();
  out.max_concurrent_calls = info.limits().max_concurrent_calls();
  out.max_message_bytes = info.limits().max_message_bytes();
  out.max_chunk_bytes = info.limits().max_chunk_bytes();
  out.workers = info.limits().workers();
  out.auth_required = info.auth_required();
  out.tls = info.tls();
  return out;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  HTSR_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, "token file"));
  const size_t eol = text.find('\n');
  std::string token(absl::StripAsciiWhitespace(text.substr(0, eol)));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  return token;
}

}  // namespace htsr
