// gRPC helpers the server integration tests share: a stub on a test server, its
// GetServerInfo, a bounded wait until it holds no calls and no tensor bytes, hand-made
// requests, and the exact comparison of a remote row with an embedded one.
#ifndef HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_
#define HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "convert/proto_convert.h"
#include "htsr/layer.h"
#include "htsr/tensor.h"
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

// A chunk of `bytes` bytes of 0x01 for tensor `index` at `offset`.
inline v1::AnalyzeRequest Chunk(uint32_t index, uint64_t offset, size_t bytes) {
  v1::AnalyzeRequest req;
  req.mutable_chunk()->set_tensor_index(index);
  req.mutable_chunk()->set_offset(offset);
  req.mutable_chunk()->set_data(std::string(bytes, '\x01'));
  return req;
}

// A header for model `model` listing one float32 tensor "big.weight" of `shape`.
inline v1::AnalyzeRequest OneTensorHeader(const std::string& model, std::vector<int64_t> shape) {
  v1::AnalyzeRequest req;
  req.mutable_header()->set_model_name(model);
  TensorInfo t;
  t.name = "big.weight";
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  *req.mutable_header()->add_tensors() = ToProto(t);
  return req;
}

// Whether a remote row equals the embedded one in every field, via the wire form (the
// converter test proves it lossless); `seconds` is wall time, not a result, and NaN equals
// NaN (degenerate layers legitimately produce it). `why` gets the differences.
inline bool SameLayerResult(const LayerResult& embedded, const LayerResult& remote,
                            std::string* why) {
  v1::LayerResult a, b;
  ToProto(embedded, &a);
  ToProto(remote, &b);
  a.clear_seconds();
  b.clear_seconds();
  google::protobuf::util::DefaultFieldComparator exact;
  exact.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer diff;
  diff.set_field_comparator(&exact);
  diff.ReportDifferencesToString(why);
  return diff.Compare(a, b);
}

}  // namespace htsr::testing

#endif  // HTSR_TESTS_INTEGRATION_SERVER_SERVER_CALLS_H_
