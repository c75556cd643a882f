// gRPC helpers the server integration tests share: a stub on a test server, its
// GetServerInfo, and a bounded wait until it holds no calls and no tensor bytes.
#ifndef HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_
#define HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "htsr/v1/analysis.grpc.pb.h"
#include "server_process.h"

namespace htsr::testing {

inline std::unique_ptr<v1::AnalysisService::Stub> Stub(const ServerProcess& s) {
  return v1::AnalysisService::NewStub(
      grpc::CreateChannel(s.address(), grpc::InsecureChannelCredentials()));
}

// Sets up a call's context: a token, a deadline. By default a 30 s deadline, so a test never
// hangs on a server that stopped answering.
using PrepareContext = std::function<void(grpc::ClientContext*)>;

inline void ThirtySecondDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

inline v1::ServerInfo Info(const ServerProcess& s,
                           const PrepareContext& prepare = ThirtySecondDeadline) {
  grpc::ClientContext ctx;
  prepare(&ctx);
  v1::ServerInfo info;
  EXPECT_TRUE(Stub(s)->GetServerInfo(&ctx, {}, &info).ok());
  return info;
}

// Waits (bounded, 5 s) until the server holds no calls and no tensor bytes. Our own
// GetServerInfo is not an Analyze call, so active_calls counts only those.
inline void ExpectDrained(const ServerProcess& s,
                          const PrepareContext& prepare = ThirtySecondDeadline) {
  v1::ServerInfo info;
  for (int i = 0; i < 250; ++i) {
    info = Info(s, prepare);
    if (info.active_calls() == 0 && info.bytes_in_use() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(info.active_calls(), 0u);
  EXPECT_EQ(info.bytes_in_use(), 0u);
}

}  // namespace htsr::testing

#endif  // HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_
