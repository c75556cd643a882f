// Remote mode: stream a model's tensors to htsr-server and get back exactly what embedded
// AnalyzeModel returns (same plans, same layer ids, same numbers: the server runs the same
// engine on the same bytes). No gRPC or protobuf types in this header: the CLI includes it.
#ifndef HTSR_CLIENT_REMOTE_REMOTE_ANALYZER_H_
#define HTSR_CLIENT_REMOTE_REMOTE_ANALYZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/engine.h"
#include "htsr/layer.h"
#include "htsr/options.h"
#include "htsr/summary.h"

namespace htsr {

// A gRPC channel opened once and shared by many calls (OpenRemoteChannel): with a
// load-balancing policy, consecutive calls rotate over every server the address resolves
// to. Opaque here so this header stays free of gRPC types.
class RemoteChannel;

struct RemoteOptions {
  std::string address;  // host:port, or any gRPC target (dns:///name:port, ipv4:a:p,b:p)
  // gRPC load-balancing policy over every address `address` resolves to ("round_robin"
  // for a pool of servers); empty = gRPC's default, pick_first.
  std::string load_balancing_policy;
  // When set, calls use this channel (from OpenRemoteChannel) instead of opening one.
  std::shared_ptr<const RemoteChannel> channel;
  // TLS: PEM CA bundle to verify the server (empty = plaintext, loopback/trusted networks).
  std::string tls_ca_file;
  // mTLS: client certificate and key (PEM), when the server requires them.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Overrides the name checked against the server certificate (tests, IP addresses).
  std::string tls_server_name;
  // Bearer token (the value, not a file: see ReadTokenFile). Empty = none.
  std::string token;
  // Whole-call deadline in seconds. 0 = a default scaled to the bytes the call sends:
  // deadline_base_seconds + bytes / deadline_min_bytes_per_second (a conservative floor on
  // throughput, solving included), so a call to a stuck server ends instead of hanging.
  // deadline_min_bytes_per_second = 0 with deadline_seconds = 0: no deadline.
  double deadline_seconds = 0;
  double deadline_base_seconds = 120;
  double deadline_min_bytes_per_second = 1 << 20;
  // Progress watchdog: when nothing has moved on a call (no message from the server, no
  // write completed) for stall_seconds, the server is asked GetServerInfo on the same
  // channel with a probe_seconds deadline; a server that does not answer that either is
  // frozen (SIGSTOP, a dead host behind an open socket): the call is cancelled and fails
  // UNAVAILABLE, which a pool retries on another server. A server that answers is only
  // busy (solving, or its budget is full and it pushes back), and the call goes on.
  // 0 = no watchdog.
  double stall_seconds = 15;
  double probe_seconds = 5;
  // HTTP/2 keepalive pings (GRPC_ARG_KEEPALIVE_TIME_MS / _TIMEOUT_MS), with or without
  // calls: a connection whose peer stops answering them is closed, failing its calls and
  // taking the server out of a round_robin rotation. htsr-server permits pings this often.
  int keepalive_time_ms = 10000;
  int keepalive_timeout_ms = 10000;
  // Bytes per TensorChunk (the server's max_chunk_bytes is the upper bound). Chunks well
  // below the server's per-stream window (4 MiB by default) keep several in flight: 1 MiB
  // moved a model ~12% faster than 4 MiB (tests/bench/remote_vs_embedded.sh, "ingest").
  size_t chunk_bytes = size_t{1} << 20;
  // Return each layer's spectrum (LayerResult::evals), as EngineConfig::keep_evals.
  bool keep_evals = false;
  // Concurrent calls one model's layers are split over (balanced by bytes), each on its own
  // connection so the server reads them on different threads: one stream's ingest is
  // bounded by one thread. Rows and summary are the same as with one call. With a pool
  // (round_robin) the calls may land on different servers. 1 = one call.
  int streams = 1;
  // A call that fails with UNAVAILABLE before the server answered it at all (no connection
  // yet: refused, reset, or a connection still backing off after an earlier one closed) did
  // nothing on the server, and is made again after each of these delays in turn (within
  // the deadline). Only for `address`: a pool `channel`'s caller retries on other servers.
  std::vector<double> connect_retry_seconds = {0.25, 1.0};
};

struct RemoteServerInfo {
  std::string version;
  std::string api_version;
  std::string backend;
  std::string backend_description;
  uint64_t max_layer_bytes = 0;
  uint64_t queue_bytes = 0;
  uint32_t max_concurrent_calls = 0;
  uint64_t max_message_bytes = 0;
  uint64_t max_chunk_bytes = 0;
  uint32_t workers = 0;
  bool auth_required = false;
  bool tls = false;
};

// Analyses `source` on the server. Results are ordered by layer_id (then slice_id), like
// AnalyzeModel; `callbacks.select` picks layers as there; `callbacks.on_layer` runs once
// per row as results arrive (serialised; with several streams from their threads).
// A tensor that `source.load` cannot read becomes a failed row, as in embedded mode.
// Call-level failures (unreachable server, auth, protocol, deadline) are the error.
// `summary`, when given, receives the model summary (the server's, or with several streams
// the same summary computed here from all rows). `peer` receives the server that answered
// (several, comma-separated, when streams landed on different servers).
absl::StatusOr<std::vector<LayerResult>> AnalyzeRemote(
    const RemoteOptions& remote, const std::string& model_name, const AnalysisOptions& options,
    const TensorSource& source, const ModelCallbacks& callbacks = {},
    ModelSummary* summary = nullptr, std::string* peer = nullptr);

// Opens a channel for `remote` (address, credentials, load-balancing policy) that calls
// share through RemoteOptions::channel: `remote.streams` connections, one per stream.
absl::StatusOr<std::shared_ptr<const RemoteChannel>> OpenRemoteChannel(const RemoteOptions& remote);

// True when every connection of `channel` is READY; try_to_connect starts idle ones.
bool RemoteChannelReady(const RemoteChannel& channel, bool try_to_connect);

// The deadline in seconds of a call sending `bytes` (RemoteOptions::deadline_seconds, or
// the default scaled to the bytes); 0 = none.
double DefaultDeadlineSeconds(const RemoteOptions& remote, uint64_t bytes);

absl::StatusOr<RemoteServerInfo> GetRemoteServerInfo(const RemoteOptions& remote);

// Reads a bearer token file (first line, trimmed), for --token-file.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace htsr

#endif  // HTSR_CLIENT_REMOTE_REMOTE_ANALYZER_H_
