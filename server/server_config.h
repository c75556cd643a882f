// Everything htsr-server is configured with (flags in main.cc fill it in).
#ifndef HTSR_SERVER_SERVER_CONFIG_H_
#define HTSR_SERVER_SERVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "htsr/backend.h"

namespace htsr::server {

struct ServerConfig {
  // host:port; port 0 picks a free port (tests). Without TLS only loopback is allowed
  // unless insecure_listen.
  std::string listen = "127.0.0.1:50051";
  bool insecure_listen = false;

  // TLS: PEM files. With tls_client_ca_file, clients must present a certificate it signs.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;

  // Bearer token every AnalysisService call must carry; empty = no auth. Never logged.
  std::string auth_token;
  // Tenants' token file (server/tenants.h), reloaded on SIGHUP; overrides auth_token.
  std::string auth_token_file;
  // Per-tenant defaults: Analyze calls at once (0 = no per-tenant limit) and queue bytes.
  uint32_t tenant_max_calls = 0;
  uint64_t tenant_queue_bytes = 0;
  // host:port of the Prometheus /metrics endpoint; empty = off.
  std::string metrics_listen;

  uint64_t queue_bytes = uint64_t{2} << 30;      // memory budget for tensor bytes
  uint64_t max_layer_bytes = uint64_t{1} << 30;  // <= queue_bytes
  uint32_t max_concurrent_calls = 64;
  uint64_t max_chunk_bytes = uint64_t{4} << 20;
  uint64_t max_message_bytes = (uint64_t{4} << 20) + (uint64_t{1} << 20);  // chunk + slack
  // Per-stream HTTP/2 receive window. A fixed window bounds what the transport buffers
  // for a call that has stopped reading (backpressure) to about this much; measured: with
  // gRPC's adaptive (BDP) window, 0, 16 stalled streams buffered ~500 MiB beyond a 32 MiB
  // budget. 0 = adaptive (only for trusted clients on long fat links).
  uint64_t transport_window_bytes = uint64_t{4} << 20;
  // Freed tensor buffers kept for reuse (server/tensor_buffer_pool.h): memory on top of
  // queue_bytes that spares the reactor a page fault per 4 KiB of every tensor. Capped at
  // queue_bytes / 4. 0 = none.
  uint64_t buffer_cache_bytes = uint64_t{512} << 20;
  // Server-side upper bound on a call's duration (the client's deadline applies when
  // shorter). Zero = none.
  absl::Duration max_call_duration = absl::Hours(6);
  // Enforced by a timer (server/call_watchdog.h): a call the server is waiting on (header
  // or tensor bytes) that sends nothing for idle_duration is ended with DEADLINE_EXCEEDED
  // and its memory freed; one that holds budget for a tensor it stopped sending while other
  // calls wait for budget is ended after stall_duration. Zero = off.
  absl::Duration idle_duration = absl::Seconds(60);
  absl::Duration stall_duration = absl::Seconds(10);
  // What one header may make the server build (plans, rows, names, per-tensor state):
  // at most this many tensors per call, and an estimate of its bytes is reserved in a
  // budget of metadata_bytes for all calls together (calls wait for it, in FIFO order).
  uint32_t max_tensors_per_call = 100000;
  uint64_t metadata_bytes = uint64_t{512} << 20;

  int workers = 0;  // engine worker threads (0 = hardware concurrency)
  // Threads of the engine's KS scan, and of BLAS for large layers (which run one at a
  // time, as in embedded mode); small layers run one per worker with one BLAS thread.
  // 0 = all cores, as embedded mode's default.
  int engine_threads = 0;
  int large_layer_threads = 0;
  Device device = Device::kAuto;
  int cuda_lanes = 0;  // EngineConfig::cuda_lanes

  absl::Duration grace = absl::Seconds(30);  // SIGTERM: time for in-flight calls
  bool log_calls = true;                     // one JSON line per call on stderr
};

// Rejects inconsistent limits and a non-loopback listen address without TLS (unless
// insecure_listen).
absl::Status ValidateConfig(const ServerConfig& config);

// True for 127.0.0.0/8, ::1, localhost and unix: addresses.
bool IsLoopbackAddress(const std::string& listen);

}  // namespace htsr::server

#endif  // HTSR_SERVER_SERVER_CONFIG_H_
