#include "server/server_options.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "htsr/status_macros.h"
#include "server/auth.h"
#include "server/size_flag.h"
#include "server/tenants.h"

namespace htsr::server {
namespace {

struct ServerOption {
  const char* name;
  const char* value_name;  // "" for switches
  const char* help;
  const char* default_text;
};

constexpr ServerOption kOptions[] = {
    {"listen", "HOST:PORT", "host:port to listen on (port 0 = any free port; see --port-file)",
     "127.0.0.1:50051"},
    {"insecure-listen", "", "allow a non-loopback address without TLS (plaintext on the network)",
     ""},
    {"tls-cert", "FILE", "PEM certificate chain (enables TLS)", ""},
    {"tls-key", "FILE", "PEM private key", ""},
    {"tls-client-ca", "FILE", "PEM CA bundle: require client certificates signed by it (mTLS)", ""},
    {"auth-token-file", "FILE",
     "tenants' tokens, 'name token [max-calls [queue-bytes]]' per line (a lone bare token = "
     "tenant 'default'); reloaded on SIGHUP",
     ""},
    {"tenant-max-calls", "N", "Analyze calls one tenant may have at once (0 = no limit)", "0"},
    {"tenant-queue-bytes", "SIZE",
     "each tenant's share of --queue-bytes, at least --max-layer-bytes (0 = all of it)", "0"},
    {"metrics-listen", "HOST:PORT",
     "serve Prometheus metrics at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; off by default)",
     ""},
    {"queue-bytes", "SIZE", "memory budget for tensor bytes held (K/M/G suffix)", "2G"},
    {"max-layer-bytes", "SIZE", "largest tensor accepted (<= --queue-bytes)", "1G"},
    {"max-concurrent-calls", "N", "Analyze calls served at once", "64"},
    {"max-chunk-bytes", "SIZE", "largest TensorChunk.data accepted", "4M"},
    {"max-message-bytes", "SIZE", "largest gRPC message accepted", "5M"},
    {"transport-window-bytes", "SIZE",
     "fixed per-stream HTTP/2 receive window: bounds what a stalled stream buffers (0 = gRPC's "
     "adaptive window, unbounded by the budget)",
     "4M"},
    {"buffer-cache-bytes", "SIZE",
     "freed tensor buffers kept for reuse, on top of --queue-bytes; at most a quarter of it (0 = "
     "none)",
     "512M"},
    {"max-call-seconds", "S", "server-side bound on one call, enforced by a timer (0 = none)",
     "21600"},
    {"idle-seconds", "S",
     "end a call the server waits on (header, tensor bytes) that sends nothing this long, with "
     "DEADLINE_EXCEEDED; its memory is freed (0 = never)",
     "60"},
    {"stall-seconds", "S",
     "end a call that holds budget for a tensor it sends nothing of for this long while other "
     "calls wait for budget (0 = never)",
     "10"},
    {"max-tensors-per-call", "N", "tensors one header may list (RESOURCE_EXHAUSTED above)",
     "100000"},
    {"metadata-bytes", "SIZE",
     "memory for what headers make the server build (plans, rows, names), all calls together; "
     "a call waits for its share",
     "512M"},
    {"workers", "N", "engine worker threads (0 = hardware concurrency)", "0"},
    {"engine-threads", "N",
     "threads inside one large layer (BLAS) and of the KS scan (0 = all cores)", "0"},
    {"device", "auto|cpu|cuda|cuda:N", "compute device (cuda:N: GPU N)", "auto"},
    {"cuda-lanes", "N", "layers in flight on the GPU at once, 1-8 (0 = HTSR_CUDA_LANES, else 2)",
     "0"},
    // Kept so that launch scripts written for earlier versions still start.
    {"max-batch", "N",
     "ignored (earlier versions grouped same-shape layers per worker; layers are now taken one "
     "at a time, oldest first)",
     ""},
    {"grace-seconds", "S", "on SIGTERM: time given to in-flight calls", "30"},
    {"log-calls", "", "one JSON line per call on stderr (--log-calls=false: none)", "on"},
    {"port-file", "FILE", "write the bound port to this file once listening", ""},
};

}  // namespace

ArgParser ServerArgParser() {
  ArgParser p("htsr-server", "[options]",
              "The htsr gRPC analysis service (docs: server/README.md). Options may be spelled\n"
              "with dashes or underscores (--queue-bytes = --queue_bytes).\n\n"
              "Exit status: 0 after a graceful shutdown (SIGTERM, SIGINT); 2 usage error or\n"
              "a server that cannot start.");
  for (const ServerOption& o : kOptions) p.AddFlag({o.name, o.value_name, o.help, o.default_text});
  return p;
}

absl::StatusOr<ServerStartup> ServerStartupFromArgs(const ParsedArgs& args) {
  if (!args.positionals().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", args.positionals()[0], "'"));
  }
  ServerStartup s;
  ServerConfig& c = s.config;
  c.listen = args.GetOr("listen", "127.0.0.1:50051");
  c.insecure_listen = args.Has("insecure-listen");
  c.tls_cert_file = args.GetOr("tls-cert", "");
  c.tls_key_file = args.GetOr("tls-key", "");
  c.tls_client_ca_file = args.GetOr("tls-client-ca", "");
  if (auto f = args.Get("auth-token-file"); f && !f->empty()) {
    TenantRegistry check(0, 0);  // parsed now so that a bad file stops the start
    HTSR_RETURN_IF_ERROR(check.LoadFile(*f));
    c.auth_token_file = *f;
  }
  HTSR_ASSIGN_OR_RETURN(int64_t tenant_calls, args.GetInt("tenant-max-calls", 0, 0, 1 << 30));
  c.tenant_max_calls = static_cast<uint32_t>(tenant_calls);
  c.metrics_listen = args.GetOr("metrics-listen", "");
  struct SizeOption {
    const char* name;
    const char* fallback;
    uint64_t* out;
  };
  for (const SizeOption& o : {SizeOption{"queue-bytes", "2G", &c.queue_bytes},
                              SizeOption{"max-layer-bytes", "1G", &c.max_layer_bytes},
                              SizeOption{"max-chunk-bytes", "4M", &c.max_chunk_bytes},
                              SizeOption{"transport-window-bytes", "4M", &c.transport_window_bytes},
                              SizeOption{"max-message-bytes", "5M", &c.max_message_bytes},
                              SizeOption{"buffer-cache-bytes", "512M", &c.buffer_cache_bytes},
                              SizeOption{"tenant-queue-bytes", "0", &c.tenant_queue_bytes},

                              SizeOption{"metadata-bytes", "512M", &c.metadata_bytes}}) {
    absl::StatusOr<uint64_t> v = ParseByteSize(args.GetOr(o.name, o.fallback));
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", o.name, ": ", v.status().message()));
    }
    *o.out = *v;
  }
  if (c.max_message_bytes > (uint64_t{1} << 31) - 1 ||
      c.transport_window_bytes > (uint64_t{1} << 31) - 1) {
    return absl::InvalidArgumentError(
        "--max-message-bytes and --transport-window-bytes must be below 2G");
  }
  constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
  HTSR_ASSIGN_OR_RETURN(int64_t calls, args.GetInt("max-concurrent-calls", 64, 1, kMaxInt));
  c.max_concurrent_calls = static_cast<uint32_t>(calls);
  HTSR_ASSIGN_OR_RETURN(double call_seconds,
                        args.GetDouble("max-call-seconds", 6 * 3600, 0, 365 * 86400.0));
  c.max_call_duration = absl::Seconds(call_seconds);
  HTSR_ASSIGN_OR_RETURN(double idle_seconds, args.GetDouble("idle-seconds", 60, 0, 365 * 86400.0));
  c.idle_duration = absl::Seconds(idle_seconds);
  HTSR_ASSIGN_OR_RETURN(double stall_seconds,
                        args.GetDouble("stall-seconds", 10, 0, 365 * 86400.0));
  c.stall_duration = absl::Seconds(stall_seconds);
  HTSR_ASSIGN_OR_RETURN(int64_t max_tensors,
                        args.GetInt("max-tensors-per-call", 100000, 1, kMaxInt));
  c.max_tensors_per_call = static_cast<uint32_t>(max_tensors);
  HTSR_ASSIGN_OR_RETURN(int64_t workers, args.GetInt("workers", 0, 0, 4096));
  c.workers = static_cast<int>(workers);
  HTSR_ASSIGN_OR_RETURN(int64_t engine_threads, args.GetInt("engine-threads", 0, 0, 4096));
  c.engine_threads = static_cast<int>(engine_threads);
  c.large_layer_threads = c.engine_threads;
  if (args.Has("max-batch")) {
    s.notes.push_back("--max-batch is ignored (layers are taken one at a time, oldest first)");
  }
  absl::StatusOr<Device> device = ParseDevice(args.GetOr("device", "auto"));
  if (!device.ok()) return absl::InvalidArgumentError("--device must be auto, cpu, cuda or cuda:N");
  c.device = *device;
  HTSR_ASSIGN_OR_RETURN(int64_t lanes, args.GetInt("cuda-lanes", 0, 0, kMaxCudaLanes));
  c.cuda_lanes = static_cast<int>(lanes);
  HTSR_ASSIGN_OR_RETURN(double grace, args.GetDouble("grace-seconds", 30, 0, 86400));
  c.grace = absl::Seconds(grace);
  c.log_calls = args.GetSwitch("log-calls", true);
  s.port_file = args.GetOr("port-file", "");
  return s;
}

}  // namespace htsr::server
