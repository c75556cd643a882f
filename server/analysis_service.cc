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
                 const std::string& peer, const grpc::Status& st) {
  if (!env.config->log_calls) return;
  CallRecord r;
  r.call_id = id;
  r.method = method;
  r.peer = peer;
  r.code = GrpcCodeName(static_cast<int>(st.error_code()));
  r.message = st.error_message();
  LogCall(r);
}

}  // namespace

AnalysisService::AnalysisService(CallEnvironment env, BackendInfo backend, bool tls)
    : env_(env), backend_(std::move(backend)), tls_(tls) {
  env_.active_calls = &active_calls_;
}

grpc::ServerBidiReactor<v1::AnalyzeRequest, v1::AnalyzeResponse>* AnalysisService::Analyze(
    grpc::CallbackServerContext* context) {
  const uint64_t id = next_call_id_.fetch_add(1);
  if (absl::Status auth = CheckBearerToken(*context, env_.config->auth_token); !auth.ok()) {
    const grpc::Status st = ToGrpcStatus(auth);
    LogRejected(env_, id, "Analyze", context->peer(), st);
    return new RejectedCall(st);
  }
  uint32_t active = active_calls_.load();
  do {
    if (active >= env_.config->max_concurrent_calls) {
      const grpc::Status st(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat("server busy: ", active, " calls in progress (limit ",
                                         env_.config->max_concurrent_calls, "); retry later"));
      LogRejected(env_, id, "Analyze", context->peer(), st);
      return new RejectedCall(st);
    }
  } while (!active_calls_.compare_exchange_weak(active, active + 1));
  return AnalyzeReactor::Start(context, env_, id);
}

grpc::ServerUnaryReactor* AnalysisService::GetServerInfo(grpc::CallbackServerContext* context,
                                                         const v1::GetServerInfoRequest*,
                                                         v1::ServerInfo* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status auth = CheckBearerToken(*context, env_.config->auth_token);
  if (!auth.ok()) {
    reactor->Finish(ToGrpcStatus(auth));
    return reactor;
  }
  response->set_version(HTSR_VERSION);
  response->set_api_version("htsr.v1");
  response->set_backend(backend_.name);
  response->set_backend_description(backend_.description);
  response->set_auth_required(!env_.config->auth_token.empty());
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
