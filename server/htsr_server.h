// The assembled server: gRPC (AnalysisService, health, reflection), memory budget, work
// queue and worker pool. main.cc adds flags and signals; tests start it in-process.
#ifndef HTSR_SERVER_HTSR_SERVER_H_
#define HTSR_SERVER_HTSR_SERVER_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/analysis_service.h"
#include "server/call_watchdog.h"
#include "server/engine_cache.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/server_config.h"
#include "server/tenants.h"
#include "server/tensor_buffer_pool.h"
#include "server/work_queue.h"
#include "server/worker_pool.h"

namespace htsr::server {

class HtsrServer {
 public:
  // Validates the config, creates the backend (fails for --device cuda without a GPU),
  // reads TLS files and starts listening.
  static absl::StatusOr<std::unique_ptr<HtsrServer>> Start(ServerConfig config);
  ~HtsrServer();

  // The bound port (useful with port 0).
  int port() const { return port_; }
  const ServerConfig& config() const { return config_; }
  const BackendInfo& backend() const { return backend_; }
  const MemoryBudget& budget() const { return *budget_; }
  const ServerMetrics& metrics() const { return *metrics_; }
  // The bound port of --metrics-listen; 0 when off.
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

  // Reads the token file again (SIGHUP): new tokens work and removed ones are refused from
  // the next call on; calls in flight go on. On error the tenants stay as they were.
  absl::Status ReloadTenants();

  // Stops accepting calls, lets in-flight calls finish for up to `grace`, cancels the rest,
  // then drains the workers. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  HtsrServer() = default;

  ServerConfig config_;
  BackendInfo backend_;
  int port_ = 0;
  std::unique_ptr<BlasThreads> blas_;
  std::unique_ptr<ServerMetrics> metrics_;  // before pool_: draining workers observe into it
  std::unique_ptr<MemoryBudget> budget_;
  std::unique_ptr<MemoryBudget> metadata_;
  std::unique_ptr<TensorBufferPool> buffers_;
  std::unique_ptr<WorkQueue> queue_;
  std::unique_ptr<EngineCache> engines_;
  // Before pool_: draining workers release bytes into tenants' budgets.
  std::unique_ptr<TenantRegistry> tenants_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<CallWatchdog> watchdog_;  // stopped before the budgets go
  std::unique_ptr<AnalysisService> service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_HTSR_SERVER_H_
