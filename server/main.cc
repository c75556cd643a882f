// htsr-server: the gRPC analysis service. Options (server/server_options.h) -> ServerConfig;
// SIGTERM/SIGINT -> graceful shutdown (stop accepting, finish or cancel in-flight calls within
// --grace-seconds, exit 0); SIGHUP -> reload the tenants' token file.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <malloc.h>
#include <pthread.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "htsr/base/text_escape.h"
#include "server/htsr_server.h"
#include "server/server_options.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "htsr-server: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const htsr::ArgParser parser = htsr::server::ServerArgParser();
  absl::StatusOr<htsr::ParsedArgs> args =
      parser.Parse(std::vector<std::string>(argv + 1, argv + argc));
  if (!args.ok()) return Fail(std::string(args.status().message()));
  if (args->Has("help")) {
    std::fputs(parser.Help().c_str(), stdout);
    return 0;
  }
  absl::StatusOr<htsr::server::ServerStartup> startup = htsr::server::ServerStartupFromArgs(*args);
  if (!startup.ok()) return Fail(std::string(startup.status().message()));
  for (const std::string& note : startup->notes) {
    std::fprintf(stderr, "htsr-server: note: %s\n", note.c_str());
  }
  const htsr::server::ServerConfig& config = startup->config;

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
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<htsr::server::HtsrServer>> server =
      htsr::server::HtsrServer::Start(config);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  const htsr::server::HtsrServer& s = **server;
  std::fprintf(stderr,
               "{\"event\":\"start\",\"listen\":\"%s\",\"port\":%d,\"backend\":\"%s\","
               "\"tls\":%s,\"auth\":%s,\"workers\":%d,\"queue_bytes\":%llu,"
               "\"metrics_port\":%d}\n",
               config.listen.c_str(), s.port(), s.backend().name.c_str(),
               config.tls_cert_file.empty() ? "false" : "true",
               config.auth_token.empty() && config.auth_token_file.empty() ? "false" : "true",
               s.config().workers, static_cast<unsigned long long>(config.queue_bytes),
               s.metrics_port());
  if (const std::string& pf = startup->port_file; !pf.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial file.
    const std::string tmp = pf + ".tmp";
    std::ofstream(tmp) << s.port() << "\n";
    std::rename(tmp.c_str(), pf.c_str());
  }

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    // Reload the tenants; a broken file keeps the previous ones (and says why).
    const absl::Status reload = (*server)->ReloadTenants();
    std::fprintf(stderr, "{\"event\":\"reload\",\"ok\":%s,\"message\":%s}\n",
                 reload.ok() ? "true" : "false",
                 htsr::JsonString(std::string(reload.message())).c_str());
  }
  std::fprintf(stderr, "{\"event\":\"shutdown\",\"signal\":%d,\"grace_seconds\":%g}\n", sig,
               absl::ToDoubleSeconds(config.grace));
  (*server)->Shutdown(config.grace);
  server->reset();
  std::fprintf(stderr, "{\"event\":\"stopped\"}\n");
  return 0;
}
