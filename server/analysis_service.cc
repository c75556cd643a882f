#include "server/analysis_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "convert/grpc_status.h"
#include "server/auth.h"
#include "server/call_log.h"

namespace htsr::server {
namespace {

// A call refused at admission: finishes at once with `status`.
class RejectedCall final : public grpc::ServerBidiReactor<v1::AnalyzeRequest, v1::AnalyzeResponse> {
 public:
  explicit RejectedCall(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

void LogRejected(const CallEnvironment& env, uint64_t id, const char* method,
                 const std::string& peer, const std::string& tenant, const grpc::Status& st) {
  CallRecord r;
  r.call_id = id;
  r.method = method;
  r.peer = peer;
  r.tenant = tenant;
  r.code = GrpcCodeName(static_cast<int>(st.error_code()));
  r.message = st.error_message();
  if (env.metrics) env.metrics->CallFinished(tenant, r, /*admitted=*/false);
  if (env.config->log_calls) LogCall(r);
}

}  // namespace

AnalysisService::AnalysisService(CallEnvironment env, BackendInfo backend, bool tls,
                                 TenantRegistry* tenants)
    : env_(env), backend_(std::move(backend)), tls_(tls), tenants_(tenants) {
  env_.active_calls = &active_calls_;
}

grpc::ServerBidiReactor<v1::AnalyzeRequest, v1::AnalyzeResponse>* AnalysisService::Analyze(
    grpc::CallbackServerContext* context) {
  const uint64_t id = next_call_id_.fetch_add(1);
  absl::StatusOr<std::shared_ptr<Tenant>> tenant = tenants_->Authenticate(*context);
  if (!tenant.ok()) {
    const grpc::Status st = ToGrpcStatus(tenant.status());
    LogRejected(env_, id, "Analyze", context->peer(), "", st);
    return new RejectedCall(st);
  }
  const std::string& name = (*tenant)->name;
  // The tenant's own limit first: a tenant at its limit is refused without taking one of
  // the server's slots from the others.
  if (absl::Status admit = TenantRegistry::Admit(**tenant); !admit.ok()) {
    const grpc::Status st = ToGrpcStatus(admit);
    LogRejected(env_, id, "Analyze", context->peer(), name, st);
    return new RejectedCall(st);
  }
  uint32_t active = active_calls_.load();
  do {
    if (active >= env_.config->max_concurrent_calls) {
      TenantRegistry::Release(**tenant);
      const grpc::Status st(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat("server busy: ", active, " calls in progress (limit ",
                                         env_.config->max_concurrent_calls, "); retry later"));
      LogRejected(env_, id, "Analyze", context->peer(), name, st);
      return new RejectedCall(st);
    }
  } while (!active_calls_.compare_exchange_weak(active, active + 1));
  if (env_.metrics) env_.metrics->CallStarted(name);
  CallEnvironment env = env_;
  if ((*tenant)->budget) env.budget = (*tenant)->budget.get();
  env.tenant = *std::move(tenant);
  return AnalyzeReactor::Start(context, std::move(env), id);
}

grpc::ServerUnaryReactor* AnalysisService::GetServerInfo(grpc::CallbackServerContext* context,
                                                         const v1::GetServerInfoRequest*,
                                                         v1::ServerInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<std::shared_ptr<Tenant>> t = tenants_->Authenticate(*context); !t.ok()) {
    reactor->Finish(ToGrpcStatus(t.status()));
    return reactor;
  }
  response->set_version(HTSR_VERSION);
  response->set_api_version("htsr.v1");
  response->set_backend(backend_.name);
  response->set_backend_description(backend_.description);
  response->set_auth_required(tenants_->auth_required());
  response->set_tls(tls_);
  response->set_bytes_in_use(env_.budget->used());
  response->set_peak_bytes_in_use(env_.budget->peak());
  response->set_active_calls(active_calls_.load());
  v1::ServerLimits* limits = response->mutable_limits();
  limits->set_max_layer_bytes(env_.config->max_layer_bytes);
  limits->set_queue_bytes(env_.config->queue_bytes);
  limits->set_max_concurrent_calls(env_.config->max_concurrent_calls);
  limits->set_max_message_bytes(env_.config->max_message_bytes);
  limits->set_max_chunk_bytes(env_.config->max_chunk_bytes);
  limits->set_workers(static_cast<uint32_t>(env_.config->workers));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace htsr::server
