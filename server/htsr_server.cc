#include "server/htsr_server.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "htsr/status_macros.h"
#include "server/tls_check.h"

namespace htsr::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeCredentials(const ServerConfig& c) {
  if (c.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  HTSR_ASSIGN_OR_RETURN(pair.private_key, ReadFile(c.tls_key_file, "--tls-key"));
  HTSR_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(c.tls_cert_file, "--tls-cert"));
  HTSR_RETURN_IF_ERROR(
      CheckTlsKeyPair(pair.cert_chain, pair.private_key, c.tls_cert_file, c.tls_key_file));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!c.tls_client_ca_file.empty()) {
    HTSR_ASSIGN_OR_RETURN(options.pem_root_certs,
                          ReadFile(c.tls_client_ca_file, "--tls-client-ca"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HtsrServer>> HtsrServer::Start(ServerConfig config) {
  HTSR_RETURN_IF_ERROR(ValidateConfig(config));
  if (config.workers <= 0) {
    config.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  std::unique_ptr<HtsrServer> s(new HtsrServer());
  s->config_ = std::move(config);
  const ServerConfig& c = s->config_;

  EngineConfig base;
  base.device = c.device;
  base.cuda_lanes = c.cuda_lanes;
  base.threads = c.engine_threads;
  s->blas_ = std::make_unique<BlasThreads>(c.large_layer_threads);
  s->engines_ = std::make_unique<EngineCache>(base, 16, s->blas_.get());
  // Creating the default engine up front validates --device and names the backend.
  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<const Engine> probe,
                        s->engines_->Get(AnalysisOptions{}, false));
  s->backend_.name = std::string(probe->backend().Name());
  s->backend_.description = probe->backend().Description();

  HTSR_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds, MakeCredentials(c));

  s->budget_ = std::make_unique<MemoryBudget>(c.queue_bytes);
  s->metadata_ = std::make_unique<MemoryBudget>(c.metadata_bytes);
  s->watchdog_ = std::make_unique<CallWatchdog>(absl::Milliseconds(200));
  // The cache grows RSS beyond the budget: at most a quarter of it.
  s->buffers_ =
      std::make_unique<TensorBufferPool>(std::min(c.buffer_cache_bytes, c.queue_bytes / 4));
  s->queue_ = std::make_unique<WorkQueue>();
  s->metrics_ = std::make_unique<ServerMetrics>();
  s->pool_ = std::make_unique<WorkerPool>(s->queue_.get(), s->budget_.get(), s->blas_.get(),
                                          c.workers, s->metrics_.get());
  s->tenants_ = std::make_unique<TenantRegistry>(
      c.tenant_max_calls, c.tenant_queue_bytes != 0 ? c.tenant_queue_bytes : c.queue_bytes,
      s->budget_.get(), c.max_layer_bytes);
  if (!c.auth_token_file.empty()) {
    HTSR_RETURN_IF_ERROR(s->tenants_->LoadFile(c.auth_token_file));
  } else if (!c.auth_token.empty()) {
    s->tenants_->SetSingleToken(c.auth_token);
  }
  {
    const MemoryBudget* budget = s->budget_.get();
    const WorkQueue* queue = s->queue_.get();
    const TenantRegistry* tenants = s->tenants_.get();
    ServerMetrics& m = *s->metrics_;
    m.AddGauge({"htsr_queue_bytes_in_use", "tensor bytes held in the memory budget",
                [budget] { return static_cast<double>(budget->used()); }});
    m.AddGauge({"htsr_queue_bytes_peak", "largest htsr_queue_bytes_in_use since start",
                [budget] { return static_cast<double>(budget->peak()); }});
    m.AddGauge({"htsr_queue_bytes_budget", "the memory budget (--queue-bytes)",
                [budget] { return static_cast<double>(budget->capacity()); }});
    m.AddGauge({"htsr_queued_layers", "assembled layers waiting for a worker",
                [queue] { return static_cast<double>(queue->size()); }});
    m.AddGaugeFamily({"htsr_calls_in_flight", "Analyze calls in progress, per tenant", "tenant",
                      [tenants] { return tenants->ActiveCalls(); }});
    m.AddGaugeFamily({"htsr_tenant_queue_bytes_in_use", "tensor bytes held, per tenant", "tenant",
                      [tenants] { return tenants->QueueBytesInUse(); }});
    m.AddGaugeFamily({"htsr_tenant_queue_bytes_budget",
                      "per-tenant share of the budget (--tenant-queue-bytes, at least "
                      "--max-layer-bytes)",
                      "tenant", [tenants] { return tenants->QueueBytesLimit(); }});
  }
  CallEnvironment env;
  env.metrics = s->metrics_.get();
  env.config = &s->config_;
  env.budget = s->budget_.get();
  env.metadata = s->metadata_.get();
  env.watchdog = s->watchdog_.get();
  env.queue = s->queue_.get();
  env.engines = s->engines_.get();
  env.buffers = s->buffers_.get();
  s->service_ = std::make_unique<AnalysisService>(env, s->backend_, !c.tls_cert_file.empty(),
                                                  s->tenants_.get());
  if (!c.metrics_listen.empty()) {
    HTSR_ASSIGN_OR_RETURN(s->metrics_http_,
                          MetricsHttpServer::Start(c.metrics_listen, s->metrics_.get()));
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(c.listen, creds, &s->port_);
  builder.RegisterService(s->service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(c.max_message_bytes));
  builder.SetMaxSendMessageSize(-1);
  // Dead peers must not hold memory forever: keepalive pings detect them.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Clients ping every 10 s (client/remote/remote_analyzer.h) to notice a frozen server;
  // accept pings down to 5 s apart, with or without calls, instead of answering GOAWAY
  // (too_many_pings) after gRPC's default of one per 5 minutes.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5 * 1000);
  if (c.transport_window_bytes > 0) {
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES,
                               static_cast<int>(c.transport_window_bytes));
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->pool_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", c.listen));
  }
  return s;
}

absl::Status HtsrServer::ReloadTenants() {
  if (config_.auth_token_file.empty()) {
    return absl::FailedPreconditionError("no --auth-token-file to reload");
  }
  return tenants_->LoadFile(config_.auth_token_file);
}

void HtsrServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Health first, so load balancers stop sending before the listener closes.
  if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace));
  server_->Wait();
  watchdog_.reset();
  pool_.reset();  // drains: abandoned calls' items are skipped, their bytes released
}

HtsrServer::~HtsrServer() {
  if (server_ != nullptr) Shutdown(absl::ZeroDuration());
}

}  // namespace htsr::server
