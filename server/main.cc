// htsr-server: the gRPC analysis service. Flags -> ServerConfig; SIGTERM/SIGINT -> graceful
// shutdown (stop accepting, finish or cancel in-flight calls within --grace-seconds, exit 0).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <malloc.h>
#include <pthread.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/auth.h"
#include "server/htsr_server.h"
#include "server/size_flag.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to listen on (port 0 = any free port; see --port-file)");
ABSL_FLAG(bool, insecure_listen, false,
          "allow a non-loopback address without TLS (plaintext on the network)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain (enables TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA bundle: require client certificates signed by it (mTLS)");
ABSL_FLAG(std::string, auth_token_file, "",
          "file whose first line is the bearer token clients must send");
ABSL_FLAG(std::string, queue_bytes, "2G", "memory budget for tensor bytes held (K/M/G suffix)");
ABSL_FLAG(std::string, max_layer_bytes, "1G", "largest tensor accepted (<= --queue-bytes)");
ABSL_FLAG(uint32_t, max_concurrent_calls, 64, "Analyze calls served at once");
ABSL_FLAG(std::string, max_chunk_bytes, "4M", "largest TensorChunk.data accepted");
ABSL_FLAG(std::string, max_message_bytes, "5M", "largest gRPC message accepted");
ABSL_FLAG(std::string, transport_window_bytes, "4M",
          "fixed per-stream HTTP/2 receive window: bounds what a stalled stream buffers "
          "(0 = gRPC's adaptive window, unbounded by the budget)");
ABSL_FLAG(std::string, buffer_cache_bytes, "512M",
          "freed tensor buffers kept for reuse, on top of --queue-bytes; at most a quarter of "
          "it (0 = none)");
ABSL_FLAG(double, max_call_seconds, 6 * 3600, "server-side bound on one call (0 = none)");
ABSL_FLAG(int32_t, workers, 0, "engine worker threads (0 = hardware concurrency)");
ABSL_FLAG(int32_t, engine_threads, 0,
          "threads inside one large layer (BLAS) and of the KS scan (0 = all cores)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda or cuda:N (GPU N)");
ABSL_FLAG(int32_t, cuda_lanes, 0,
          "layers in flight on the GPU at once, 1-8 (0 = default: HTSR_CUDA_LANES, else 2)");
// Kept so that launch scripts written for earlier versions still start.
ABSL_FLAG(uint32_t, max_batch, 0,
          "ignored (earlier versions grouped same-shape layers per worker; layers are now taken "
          "one at a time, oldest first)");
ABSL_FLAG(double, grace_seconds, 30, "on SIGTERM: time given to in-flight calls");
ABSL_FLAG(bool, log_calls, true, "one JSON line per call on stderr");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once listening");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "htsr-server: %s\n", message.c_str());
  return 2;
}

// The documented spelling is --tls-cert; Abseil flag names use underscores. Rewrites the
// name part of every "--a-b[=v]" argument (values are left alone).
std::vector<std::string> DashesToUnderscores(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& a = args[i];
    if (a == "--") break;
    if (a.rfind("--", 0) != 0) continue;
    const size_t end = std::min(a.find('='), a.size());
    for (size_t k = 2; k < end; ++k) {
      if (a[k] == '-') a[k] = '_';
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "htsr-server [flags]: the htsr gRPC analysis service (docs: server/README.md).\n"
      "Flags may be spelled with dashes or underscores (--queue-bytes = --queue_bytes).");
  // Abseil's --help lists the flags of the file named like the program; ours live here.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "server/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  std::vector<std::string> args = DashesToUnderscores(argc, argv);
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());

  // Memory policy. Tensor buffers of 1 MiB and up never come from malloc: the buffer pool
  // maps them itself and reuses them under a cap (server/tensor_buffer_pool.h), so they
  // cannot fragment malloc's per-thread heaps and keep RSS above the byte budget. What is
  // left for malloc is short-lived and at most a message (chunk, protobuf string, gRPC
  // slices, layer scratch): a fixed 8 MiB mmap threshold keeps that in the heaps, and a
  // 16 MiB trim threshold keeps freed pages there for the next message, instead of
  // mapping and faulting in every chunk afresh (glibc's defaults hand pages back after each
  // message). Measured on the "ingest" bench (tests/bench/remote_vs_embedded.sh, 384 MiB,
  // one stream, 2-core VM): 0.92 s with a 256 KiB threshold and fresh buffers, 0.62 s with
  // the pool and the trim threshold, 0.41 s with this threshold too; the 16-client memory
  // test's RSS growth went down (~100 -> ~85 MiB).
  mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);

  // Block the shutdown signals before any thread exists, so every gRPC and worker thread
  // inherits the mask and only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  htsr::server::ServerConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.insecure_listen = absl::GetFlag(FLAGS_insecure_listen);
  config.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  config.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  config.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (const std::string f = absl::GetFlag(FLAGS_auth_token_file); !f.empty()) {
    absl::StatusOr<std::string> token = htsr::server::LoadTokenFile(f);
    if (!token.ok()) return Fail(std::string(token.status().message()));
    config.auth_token = *std::move(token);
  }
  struct SizeFlag {
    const char* name;
    std::string value;
    uint64_t* out;
  };
  for (const SizeFlag& f :
       {SizeFlag{"--queue-bytes", absl::GetFlag(FLAGS_queue_bytes), &config.queue_bytes},
        SizeFlag{"--max-layer-bytes", absl::GetFlag(FLAGS_max_layer_bytes),
                 &config.max_layer_bytes},
        SizeFlag{"--max-chunk-bytes", absl::GetFlag(FLAGS_max_chunk_bytes),
                 &config.max_chunk_bytes},
        SizeFlag{"--transport-window-bytes", absl::GetFlag(FLAGS_transport_window_bytes),
                 &config.transport_window_bytes},
        SizeFlag{"--max-message-bytes", absl::GetFlag(FLAGS_max_message_bytes),
                 &config.max_message_bytes},
        SizeFlag{"--buffer-cache-bytes", absl::GetFlag(FLAGS_buffer_cache_bytes),
                 &config.buffer_cache_bytes}}) {
    absl::StatusOr<uint64_t> v = htsr::server::ParseByteSize(f.value);
    if (!v.ok()) return Fail(absl::StrCat(f.name, ": ", v.status().message()));
    *f.out = *v;
  }
  if (config.max_message_bytes > (uint64_t{1} << 31) - 1 ||
      config.transport_window_bytes > (uint64_t{1} << 31) - 1) {
    return Fail("--max-message-bytes and --transport-window-bytes must be below 2G");
  }
  config.max_concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  config.max_call_duration = absl::Seconds(absl::GetFlag(FLAGS_max_call_seconds));
  config.workers = absl::GetFlag(FLAGS_workers);
  config.engine_threads = absl::GetFlag(FLAGS_engine_threads);
  config.large_layer_threads = config.engine_threads;
  if (absl::GetFlag(FLAGS_max_batch) != 0) {
    std::fprintf(stderr,
                 "htsr-server: note: --max-batch is ignored (layers are taken one at a "
                 "time, oldest first)\n");
  }
  absl::StatusOr<htsr::Device> device = htsr::ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return Fail("--device must be auto, cpu, cuda or cuda:N");
  config.device = *device;
  config.cuda_lanes = absl::GetFlag(FLAGS_cuda_lanes);
  if (config.cuda_lanes < 0 || config.cuda_lanes > htsr::kMaxCudaLanes) {
    return Fail("--cuda_lanes must be 0 (default) or 1..8");
  }
  config.grace = absl::Seconds(absl::GetFlag(FLAGS_grace_seconds));
  config.log_calls = absl::GetFlag(FLAGS_log_calls);

  absl::StatusOr<std::unique_ptr<htsr::server::HtsrServer>> server =
      htsr::server::HtsrServer::Start(config);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  const htsr::server::HtsrServer& s = **server;
  std::fprintf(stderr,
               "{\"event\":\"start\",\"listen\":\"%s\",\"port\":%d,\"backend\":\"%s\","
               "\"tls\":%s,\"auth\":%s,\"workers\":%d,\"queue_bytes\":%llu}\n",
               config.listen.c_str(), s.port(), s.backend().name.c_str(),
               config.tls_cert_file.empty() ? "false" : "true",
               config.auth_token.empty() ? "false" : "true", s.config().workers,
               static_cast<unsigned long long>(config.queue_bytes));
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial file.
    const std::string tmp = pf + ".tmp";
    std::ofstream(tmp) << s.port() << "\n";
    std::rename(tmp.c_str(), pf.c_str());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "{\"event\":\"shutdown\",\"signal\":%d,\"grace_seconds\":%g}\n", sig,
               absl::ToDoubleSeconds(config.grace));
  (*server)->Shutdown(config.grace);
  server->reset();
  std::fprintf(stderr, "{\"event\":\"stopped\"}\n");
  return 0;
}
