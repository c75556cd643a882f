// htsr.v1.AnalysisService on the gRPC callback API: admission (auth, concurrency limit)
// and ServerInfo here; the streaming work is in AnalyzeReactor.
#ifndef HTSR_SERVER_ANALYSIS_SERVICE_H_
#define HTSR_SERVER_ANALYSIS_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <string>

#include <grpcpp/grpcpp.h>

#include "htsr/v1/analysis.grpc.pb.h"
#include "server/analyze_reactor.h"
#include "server/tenants.h"

namespace htsr::server {

struct BackendInfo {
  std::string name;         // "cpu" / "cuda"
  std::string description;  // device model and memory
};

class AnalysisService final : public v1::AnalysisService::CallbackService {
 public:
  // `tenants` authenticates calls and holds per-tenant limits; it outlives the service.
  AnalysisService(CallEnvironment env, BackendInfo backend, bool tls, TenantRegistry* tenants);

  grpc::ServerBidiReactor<v1::AnalyzeRequest, v1::AnalyzeResponse>* Analyze(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const v1::GetServerInfoRequest* request,
                                          v1::ServerInfo* response) override;

  uint32_t active_calls() const { return active_calls_.load(); }

 private:
  CallEnvironment env_;
  const BackendInfo backend_;
  const bool tls_;
  TenantRegistry* const tenants_;
  std::atomic<uint32_t> active_calls_{0};
  std::atomic<uint64_t> next_call_id_{1};
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_ANALYSIS_SERVICE_H_
