// The Prometheus scrape endpoint (--metrics-listen): GET /metrics over plain HTTP, served
// by libmicrohttpd (Debian's libmicrohttpd-dev) on its own thread, separate from gRPC.
// Only GET /metrics answers (200, text/plain; version=0.0.4); anything else is 404/405.
#ifndef HTSR_SERVER_METRICS_HTTP_H_
#define HTSR_SERVER_METRICS_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/metrics.h"

struct MHD_Daemon;

namespace htsr::server {

class MetricsHttpServer {
 public:
  // `listen` is IPv4 "a.b.c.d:port" or "[v6]:port" (port 0 = any free port).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const std::string& listen,
                                                                  const ServerMetrics* metrics);
  ~MetricsHttpServer();
  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_METRICS_HTTP_H_
