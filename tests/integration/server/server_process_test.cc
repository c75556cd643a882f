// The htsr-server binary against misbehaving and concurrent clients: clear status codes,
// the server keeps serving, memory is released (bytes_in_use back to 0) and bounded (peak
// RSS under the byte budget plus transport buffers), auth, TLS/mTLS, limits, SIGTERM.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "convert/proto_convert.h"
#include "htsr/engine.h"
#include "htsr/v1/analysis.grpc.pb.h"
#include "remote/remote_analyzer.h"
#include "server_calls.h"
#include "server_process.h"
#include "synthetic_model.h"

namespace htsr {
namespace {

using ::htsr::testing::Chunk;
using ::htsr::testing::MakeMixedModel;
using ::htsr::testing::MakeTensor;
using ::htsr::testing::ServerProcess;
using ::htsr::testing::Stub;
using ::htsr::testing::SyntheticModel;
using Stream = grpc::ClientReaderWriter<v1::AnalyzeRequest, v1::AnalyzeResponse>;

constexpr char kToken[] = "s3cret-token-value-0123456789";

std::string WriteTokenFile(const std::string& dir) {
  const std::string path = dir + "/token";
  std::ofstream(path) << kToken << "\n";
  return path;
}

void Authorize(grpc::ClientContext* ctx, const std::string& token = kToken) {
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
}

v1::AnalyzeRequest Header(const std::vector<TensorInfo>& tensors) {
  v1::AnalyzeRequest req;
  req.mutable_header()->set_model_name("test");
  for (const TensorInfo& t : tensors) *req.mutable_header()->add_tensors() = ToProto(t);
  return req;
}

TensorInfo Info(const std::string& name, std::vector<int64_t> shape) {
  TensorInfo t;
  t.name = name;
  t.dtype = DType::kF32;
  t.shape = std::move(shape);
  return t;
}

// Sends `requests` after the header, half-closes, drains, returns the final status.
grpc::Status Converse(v1::AnalysisService::Stub* stub, grpc::ClientContext* ctx,
                      const std::vector<v1::AnalyzeRequest>& requests) {
  std::unique_ptr<Stream> stream = stub->Analyze(ctx);
  for (const auto& r : requests) {
    if (!stream->Write(r)) break;
  }
  stream->WritesDone();
  v1::AnalyzeResponse resp;
  while (stream->Read(&resp)) {
  }
  return stream->Finish();
}

void AuthorizeWithOurToken(grpc::ClientContext* ctx) { Authorize(ctx); }

RemoteOptions Remote(const ServerProcess& s, bool token = true) {
  RemoteOptions r;
  r.address = s.address();
  if (token) r.token = kToken;
  r.deadline_seconds = 120;
  return r;
}

class BadClients : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    server_ = std::make_unique<ServerProcess>(std::vector<std::string>{
        "--auth-token-file=" + WriteTokenFile(dir_), "--max-message-bytes=2M",
        "--max-chunk-bytes=1M", "--queue-bytes=16M", "--max-layer-bytes=4M", "--workers=2"});
    ASSERT_GT(server_->port(), 0) << server_->log();
    stub_ = Stub(*server_);
  }
  void TearDown() override {
    // Whatever the bad client did, the server still serves a good one correctly...
    const SyntheticModel model = MakeMixedModel(3, false);
    auto results = AnalyzeRemote(Remote(*server_), "after", AnalysisOptions{}, model.Source());
    ASSERT_TRUE(results.ok()) << results.status();
    EngineConfig config;
    config.device = Device::kCpu;
    const auto expected = AnalyzeModel(**Engine::Create(config), model.Source());
    ASSERT_EQ(results->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ((*results)[i].alpha, expected[i].alpha);
    }
    // ...holds no memory for it, and never logs the token.
    ExpectDrained(*server_, AuthorizeWithOurToken);
    EXPECT_EQ(server_->log().find(kToken), std::string::npos);
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::AnalysisService::Stub> stub_;
};

TEST_F(BadClients, NoTokenIsUnauthenticated) {
  grpc::ClientContext ctx;
  const grpc::Status st = Converse(stub_.get(), &ctx, {Header({Info("a.weight", {16, 16})})});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  grpc::ClientContext info_ctx;
  v1::ServerInfo info;
  EXPECT_EQ(stub_->GetServerInfo(&info_ctx, {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // The health service needs no token (load balancers probe it).
}

TEST_F(BadClients, WrongTokenIsUnauthenticatedAndNotEchoed) {
  grpc::ClientContext ctx;
  Authorize(&ctx, std::string(kToken) + "x");
  const grpc::Status st = Converse(stub_.get(), &ctx, {Header({Info("a.weight", {16, 16})})});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(st.error_message().find(kToken), std::string::npos);
  auto r = AnalyzeRemote(Remote(*server_, false), "m", AnalysisOptions{},
                         MakeMixedModel(1, false).Source());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(BadClients, UnknownDtypeIsInvalidArgument) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  v1::AnalyzeRequest header = Header({Info("a.weight", {16, 16})});
  header.mutable_header()->mutable_tensors(0)->set_dtype(static_cast<v1::DType>(99));
  const grpc::Status st = Converse(stub_.get(), &ctx, {header});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("a.weight"), std::string::npos) << st.error_message();
  EXPECT_NE(st.error_message().find("dtype"), std::string::npos) << st.error_message();
}

TEST_F(BadClients, ChunkBeforeHeaderIsInvalidArgument) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  const grpc::Status st = Converse(stub_.get(), &ctx, {Chunk(0, 0, 16)});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BadClients, HeaderLyingAboutShapeTooFewBytes) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  // Declares 64x32 f32 (8192 bytes), sends the bytes of 64x16.
  const grpc::Status st =
      Converse(stub_.get(), &ctx, {Header({Info("fc.weight", {64, 32})}), Chunk(0, 0, 4096)});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("fc.weight"), std::string::npos) << st.error_message();
}

TEST_F(BadClients, HeaderLyingAboutShapeTooManyBytes) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  const grpc::Status st =
      Converse(stub_.get(), &ctx,
               {Header({Info("fc.weight", {64, 32})}), Chunk(0, 0, 8192), Chunk(0, 8192, 4)});
  // The first chunk completes the tensor; the extra bytes arrive for a finished tensor.
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  grpc::ClientContext ctx2;
  Authorize(&ctx2);
  const grpc::Status st2 =
      Converse(stub_.get(), &ctx2, {Header({Info("fc.weight", {64, 32})}), Chunk(0, 0, 8196)});
  EXPECT_EQ(st2.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st2.error_message().find("beyond its declared size"), std::string::npos)
      << st2.error_message();
}

TEST_F(BadClients, ChunkShapeContradictingHeader) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  v1::AnalyzeRequest chunk = Chunk(0, 0, 8192);
  chunk.mutable_chunk()->add_shape(32);
  chunk.mutable_chunk()->add_shape(64);
  const grpc::Status st =
      Converse(stub_.get(), &ctx, {Header({Info("fc.weight", {64, 32})}), chunk});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("shape"), std::string::npos) << st.error_message();
}

TEST_F(BadClients, OversizedMessageIsResourceExhausted) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  // 3 MiB in one message, above --max-message-bytes=2M: gRPC itself refuses it.
  const grpc::Status st = Converse(
      stub_.get(), &ctx, {Header({Info("big.weight", {1024, 1024})}), Chunk(0, 0, 3 << 20)});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

TEST_F(BadClients, ChunkAboveChunkLimitIsInvalidArgument) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  // 1.5 MiB: fits the message limit but not --max-chunk-bytes=1M.
  const grpc::Status st = Converse(
      stub_.get(), &ctx, {Header({Info("big.weight", {1024, 1024})}), Chunk(0, 0, 3 << 19)});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_NE(st.error_message().find("exceeds the limit"), std::string::npos);
}

TEST_F(BadClients, DisconnectMidStreamReleasesMemory) {
  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext ctx;
    Authorize(&ctx);
    std::unique_ptr<Stream> stream = stub_->Analyze(&ctx);
    ASSERT_TRUE(stream->Write(Header({Info("big.weight", {1024, 1024})})));  // 4 MiB
    v1::AnalyzeResponse plan;
    ASSERT_TRUE(stream->Read(&plan));
    ASSERT_EQ(plan.plan().requested_tensors_size(), 1);
    ASSERT_TRUE(stream->Write(Chunk(0, 0, 1 << 20)));
    ASSERT_TRUE(stream->Write(Chunk(0, 1 << 20, 1 << 20)));
    ctx.TryCancel();  // the client goes away with half a tensor sent
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  ExpectDrained(*server_, AuthorizeWithOurToken);
}

TEST_F(BadClients, LayerAboveMaxLayerBytesIsAFailedRow) {
  SyntheticModel model = MakeMixedModel(5, false);
  model.tensors.push_back(MakeTensor("huge.weight", DType::kF32, {2048, 1024}, 9));  // 8 MiB
  auto results = AnalyzeRemote(Remote(*server_), "huge", AnalysisOptions{}, model.Source());
  ASSERT_TRUE(results.ok()) << results.status();
  const LayerResult& huge = results->back();
  EXPECT_EQ(huge.plan.layer_id, static_cast<int>(results->size()));
  EXPECT_EQ(huge.status, LayerStatus::kFailed);
  EXPECT_NE(huge.reason.find("--max-layer-bytes"), std::string::npos) << huge.reason;
  EXPECT_EQ((*results)[1].status, LayerStatus::kSuccess);
}

TEST_F(BadClients, StalledClientHitsItsDeadline) {
  grpc::ClientContext ctx;
  Authorize(&ctx);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  std::unique_ptr<Stream> stream = stub_->Analyze(&ctx);
  ASSERT_TRUE(stream->Write(Header({Info("big.weight", {1024, 1024})})));
  ASSERT_TRUE(stream->Write(Chunk(0, 0, 1 << 20)));
  v1::AnalyzeResponse resp;
  while (stream->Read(&resp)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ExpectDrained(*server_, AuthorizeWithOurToken);
}

TEST(ServerLimits, MaxConcurrentCalls) {
  ServerProcess server({"--max-concurrent-calls=1"});
  ASSERT_GT(server.port(), 0) << server.log();
  auto stub = Stub(server);
  grpc::ClientContext held;
  std::unique_ptr<Stream> first = stub->Analyze(&held);
  ASSERT_TRUE(first->Write(Header({Info("a.weight", {64, 32})})));
  v1::AnalyzeResponse plan;
  ASSERT_TRUE(first->Read(&plan));  // the first call is now admitted and open
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  const grpc::Status st = Converse(stub.get(), &ctx, {Header({Info("a.weight", {64, 32})})});
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  held.TryCancel();
  first->Finish();
}

// 16 clients stream 768 MiB in total through a 32 MiB budget: every result is right and
// the server's peak RSS stays under budget + per-call transport buffers, far below the
// streamed total.
TEST(ServerMemory, SixteenClientsStayUnderBudget) {
  constexpr int kClients = 16;
  constexpr int kLayers = 24;
  constexpr uint64_t kBudget = 32ull << 20;
  constexpr uint64_t kMessage = 2ull << 20;
  constexpr uint64_t kWindow = 1ull << 20;
  ServerProcess server({"--queue-bytes=32M", "--max-layer-bytes=4M", "--max-message-bytes=2M",
                        "--max-chunk-bytes=1M", "--workers=2", "--log-calls=false",
                        "--transport-window-bytes=1M"});
  ASSERT_GT(server.port(), 0) << server.log();
  // Baseline after one small call (gRPC, engine and allocator warmed up).
  auto warm = AnalyzeRemote(Remote(server, false), "warm", AnalysisOptions{},
                            MakeMixedModel(1, false).Source());
  ASSERT_TRUE(warm.ok()) << warm.status() << server.log();
  const long baseline_kib = server.StatusKiB("VmRSS");
  ASSERT_GT(baseline_kib, 0);

  // 4 distinct models (2 MiB layers: 32768 x 16 f32, cheap to solve, heavy to move).
  std::vector<SyntheticModel> models(4);
  std::vector<std::vector<LayerResult>> expected;
  EngineConfig config;
  config.device = Device::kCpu;
  auto engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok());
  for (int m = 0; m < 4; ++m) {
    for (int l = 0; l < kLayers; ++l) {
      models[m].tensors.push_back(
          MakeTensor(absl::StrCat("l", l, ".weight"), DType::kF32, {32768, 16}, 1000 * m + l));
    }
    expected.push_back(AnalyzeModel(**engine, models[m].Source()));
  }
  std::vector<absl::StatusOr<std::vector<LayerResult>>> got(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      RemoteOptions remote = Remote(server, false);
      remote.chunk_bytes = 1 << 20;
      got[i] =
          AnalyzeRemote(remote, absl::StrCat("c", i), AnalysisOptions{}, models[i % 4].Source());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    ASSERT_EQ(got[i]->size(), static_cast<size_t>(kLayers));
    for (int l = 0; l < kLayers; ++l) {
      EXPECT_EQ((*got[i])[l].alpha, expected[i % 4][l].alpha);
      EXPECT_EQ((*got[i])[l].norm, expected[i % 4][l].norm);
    }
  }
  const long peak_kib = server.StatusKiB("VmHWM");
  const v1::ServerInfo info = Info(server, AuthorizeWithOurToken);
  EXPECT_LE(info.peak_bytes_in_use(), kBudget);
  EXPECT_GT(info.peak_bytes_in_use(), 0u);
  const double streamed_mib = kClients * kLayers * 2.0;
  const double growth_mib = (peak_kib - baseline_kib) / 1024.0;
  // Budget + per call: the transport window (1M), one request being parsed and one held
  // while waiting for bytes (2M each); + 32 MiB for engine scratch and allocator slack.
  const double bound_mib = (kBudget + kClients * (kWindow + 2 * kMessage)) / 1048576.0 + 32;
  std::printf(
      "[ server ] streamed %.0f MiB, baseline RSS %.1f MiB, peak RSS %.1f MiB "
      "(growth %.1f MiB, bound %.0f MiB), budget peak %.1f MiB\n",
      streamed_mib, baseline_kib / 1024.0, peak_kib / 1024.0, growth_mib, bound_mib,
      info.peak_bytes_in_use() / 1048576.0);
  EXPECT_LT(growth_mib, bound_mib);
  EXPECT_LT(growth_mib, streamed_mib / 4);
  ExpectDrained(server, AuthorizeWithOurToken);
}

TEST(ServerLifecycle, SigtermWithCallInFlightExitsZero) {
  ServerProcess server({"--grace-seconds=5", "--workers=1"});
  ASSERT_GT(server.port(), 0) << server.log();
  SyntheticModel model;
  for (int l = 0; l < 40; ++l) {
    model.tensors.push_back(
        MakeTensor(absl::StrCat("l", l, ".weight"), DType::kF32, {512, 256}, l));
  }
  std::atomic<bool> done{false};
  absl::Status client_status;
  std::thread client([&] {
    auto r = AnalyzeRemote(Remote(server, false), "slow", AnalysisOptions{}, model.Source());
    client_status = r.status();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  const std::optional<int> code = server.Stop(SIGTERM, std::chrono::seconds(15));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  client.join();
  ASSERT_TRUE(code.has_value()) << "server did not exit within the grace period";
  EXPECT_EQ(*code, 0) << server.log();
  EXPECT_LT(seconds, 5 + 5);
  // Either the call finished inside the grace period or it was cancelled: never a hang.
  EXPECT_TRUE(client_status.ok() || client_status.code() == absl::StatusCode::kCancelled ||
              client_status.code() == absl::StatusCode::kUnavailable)
      << client_status;
  EXPECT_NE(server.log().find("\"event\":\"stopped\""), std::string::npos);
}

TEST(ServerLifecycle, RefusesNonLoopbackWithoutTls) {
  ServerProcess refused({"--listen=0.0.0.0:0"}, std::chrono::seconds(10));
  EXPECT_EQ(refused.port(), 0);
  const std::optional<int> code = refused.Wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(refused.log().find("without TLS"), std::string::npos) << refused.log();

  ServerProcess allowed({"--listen=0.0.0.0:0", "--insecure-listen"});
  EXPECT_GT(allowed.port(), 0) << allowed.log();
  EXPECT_EQ(allowed.Stop(SIGTERM, std::chrono::seconds(10)).value_or(-1), 0);
}

// TLS and mutual TLS with certificates made by the openssl CLI for this test.
class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    const std::string d = dir_;
    const std::string script =
        "cd " + d +
        " && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=htsr-test-ca >/dev/null 2>&1 && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost >/dev/null 2>&1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile san.ext >/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
        "-subj /CN=client >/dev/null 2>&1 && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2 >/dev/null 2>&1";
    if (std::system(script.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

TEST_F(Tls, ServerTlsAndClientCertificates) {
  const SyntheticModel model = MakeMixedModel(21, false);
  {
    ServerProcess server(
        {"--tls-cert=" + dir_ + "/server.pem", "--tls-key=" + dir_ + "/server.key"});
    ASSERT_GT(server.port(), 0) << server.log();
    RemoteOptions remote = Remote(server, false);
    remote.tls_ca_file = dir_ + "/ca.pem";
    remote.tls_server_name = "localhost";
    auto ok = AnalyzeRemote(remote, "tls", AnalysisOptions{}, model.Source());
    EXPECT_TRUE(ok.ok()) << ok.status();
    auto info = GetRemoteServerInfo(remote);
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(info->tls);
    RemoteOptions plaintext = Remote(server, false);
    plaintext.deadline_seconds = 5;
    EXPECT_EQ(GetRemoteServerInfo(plaintext).status().code(), absl::StatusCode::kUnavailable);
  }
  {
    ServerProcess server({"--tls-cert=" + dir_ + "/server.pem", "--tls-key=" + dir_ + "/server.key",
                          "--tls-client-ca=" + dir_ + "/ca.pem"});
    ASSERT_GT(server.port(), 0) << server.log();
    RemoteOptions remote = Remote(server, false);
    remote.tls_ca_file = dir_ + "/ca.pem";
    remote.tls_server_name = "localhost";
    remote.deadline_seconds = 5;
    EXPECT_EQ(GetRemoteServerInfo(remote).status().code(), absl::StatusCode::kUnavailable)
        << "mTLS server accepted a client without a certificate";
    remote.tls_cert_file = dir_ + "/client.pem";
    remote.tls_key_file = dir_ + "/client.key";
    remote.deadline_seconds = 60;
    auto ok = AnalyzeRemote(remote, "mtls", AnalysisOptions{}, model.Source());
    EXPECT_TRUE(ok.ok()) << ok.status();
  }
}

}  // namespace
}  // namespace htsr
