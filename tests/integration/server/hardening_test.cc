// Findings of the server hardening issue, each measured against the htsr-server binary on
// 127.0.0.1: header amplification (RSS bounded and returned), idle streams (timers, not
// message arrival; a quiet call cannot starve a normal one), the call log's status for
// client cancels and deadlines, and a TLS key that does not match its certificate.
#include <atomic>
#include <chrono>
#include <cstdio>
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
using ::htsr::testing::ExpectDrained;
using ::htsr::testing::Info;
using ::htsr::testing::MakeMixedModel;
using ::htsr::testing::MakeTensor;
using ::htsr::testing::OneTensorHeader;
using ::htsr::testing::ServerProcess;
using ::htsr::testing::Stub;
using ::htsr::testing::SyntheticModel;
using Stream = grpc::ClientReaderWriter<v1::AnalyzeRequest, v1::AnalyzeResponse>;
using Clock = std::chrono::steady_clock;

void Deadline(grpc::ClientContext* ctx, int seconds) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

// `count` tiny [3,3] tensors with the shortest names, all_tensors: the most server
// structures per byte on the wire (each is a planned, skipped layer with a row).
v1::AnalyzeRequest TinyTensorsHeader(int count) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  v1::AnalyzeRequest req;
  v1::AnalyzeHeader* h = req.mutable_header();
  h->set_model_name("amplify");
  h->mutable_options()->set_all_tensors(true);
  h->mutable_tensors()->Reserve(count);
  for (int i = 0; i < count; ++i) {
    std::string name;
    for (int v = i; name.empty() || v > 0; v /= 62) name.push_back(kDigits[v % 62]);
    v1::TensorMeta* m = h->add_tensors();
    m->set_name(name);
    m->set_dtype(v1::DTYPE_F32);
    m->add_shape(3);
    m->add_shape(3);
  }
  return req;
}

struct CallOutcome {
  grpc::Status status;
  int64_t responses = 0;
  double seconds = 0;
};

// Writes `requests`, half-closes, drains the responses; the final status.
CallOutcome Converse(const ServerProcess& s, const std::vector<v1::AnalyzeRequest>& requests,
                     int deadline_seconds) {
  auto stub = Stub(s);
  grpc::ClientContext ctx;
  Deadline(&ctx, deadline_seconds);
  const auto t0 = Clock::now();
  std::unique_ptr<Stream> stream = stub->Analyze(&ctx);
  for (const auto& r : requests) {
    if (!stream->Write(r)) break;
  }
  stream->WritesDone();
  CallOutcome out;
  v1::AnalyzeResponse resp;
  while (stream->Read(&resp)) ++out.responses;
  out.status = stream->Finish();
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

RemoteOptions Remote(const ServerProcess& s) {
  RemoteOptions r;
  r.address = s.address();
  r.deadline_seconds = 120;
  return r;
}

// Samples VmRSS every 20 ms on a thread until stopped; the maximum in KiB. (VmHWM cannot
// be reset, so phases of one server are measured this way.)
class RssSampler {
 public:
  explicit RssSampler(const ServerProcess& s) : server_(s) {
    thread_ = std::thread([this] {
      const auto until = Clock::now() + std::chrono::minutes(5);
      while (!stop_.load() && Clock::now() < until) {
        const long kib = server_.StatusKiB("VmRSS");
        if (kib > max_kib_.load()) max_kib_.store(kib);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~RssSampler() { Stop(); }
  long Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return max_kib_.load();
  }

 private:
  const ServerProcess& server_;
  std::atomic<bool> stop_{false};
  std::atomic<long> max_kib_{0};
  std::thread thread_;
};

// Waits (bounded) for RSS to settle below `kib`; the last reading.
long SettledRssKiB(const ServerProcess& s, long kib) {
  long now = s.StatusKiB("VmRSS");
  for (int i = 0; i < 100 && now > kib; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    now = s.StatusKiB("VmRSS");
  }
  return now;
}

// Finding 1: a 5 MB header of 450,000 tiny tensors cost +1.3 GB RSS per call and stayed.
// Now: more than --max-tensors-per-call tensors is refused before anything is built from
// it; below the limit, what a header builds is charged to --metadata-bytes (calls wait
// for it), and the memory is returned when the calls end.
TEST(Amplification, TinyTensorHeadersAreBoundedAndMemoryIsReturned) {
  constexpr uint64_t kMiB = 1 << 20;
  constexpr uint64_t kMessage = 8 * kMiB;
  constexpr uint64_t kMetadata = 256 * kMiB;
  ServerProcess server({"--queue-bytes=64M", "--workers=2", "--log-calls=false",
                        "--max-message-bytes=8M", "--max-layer-bytes=16M",
                        "--metadata-bytes=256M"});
  ASSERT_GT(server.port(), 0) << server.log();
  auto warm =
      AnalyzeRemote(Remote(server), "warm", AnalysisOptions{}, MakeMixedModel(1, false).Source());
  ASSERT_TRUE(warm.ok()) << warm.status() << server.log();
  const long baseline_kib = server.StatusKiB("VmRSS");

  const v1::AnalyzeRequest huge = TinyTensorsHeader(450000);
  std::printf("[ header ] 450000 tensors: %.2f MB on the wire\n", huge.ByteSizeLong() / 1e6);
  {
    RssSampler sampler(server);
    std::vector<CallOutcome> out(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { out[i] = Converse(server, {huge}, 120); });
    }
    for (auto& t : threads) t.join();
    const long peak_kib = sampler.Stop();
    const double growth_mib = (peak_kib - baseline_kib) / 1024.0;
    // Per call, gRPC holds the message and its parsed form (measured ~6x the wire size
    // for these tensors) until the reactor refuses it; + 64 MiB allocator slack.
    const double bound_mib = 4 * (8.0 * kMessage) / kMiB + 64;
    std::printf(
        "[ server ] 4 x 450k-tensor headers: baseline %.1f MiB, peak growth %.1f MiB "
        "(bound %.0f MiB)\n",
        baseline_kib / 1024.0, growth_mib, bound_mib);
    for (const CallOutcome& o : out) {
      EXPECT_EQ(o.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << o.status.error_message();
      EXPECT_NE(o.status.error_message().find("--max-tensors-per-call"), std::string::npos)
          << o.status.error_message();
    }
    EXPECT_LT(growth_mib, bound_mib);
  }
  {
    // Under the limit: accepted, but what they build is charged to --metadata-bytes.
    const v1::AnalyzeRequest big = TinyTensorsHeader(60000);
    RssSampler sampler(server);
    std::vector<CallOutcome> out(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { out[i] = Converse(server, {big}, 120); });
    }
    for (auto& t : threads) t.join();
    const long peak_kib = sampler.Stop();
    const double growth_mib = (peak_kib - baseline_kib) / 1024.0;
    const double bound_mib = (kMetadata + 4 * 8.0 * kMessage) / kMiB + 64;
    std::printf("[ server ] 4 x 60k-tensor headers: peak growth %.1f MiB (bound %.0f MiB)\n",
                growth_mib, bound_mib);
    for (const CallOutcome& o : out) {
      EXPECT_TRUE(o.status.ok()) << o.status.error_code() << " " << o.status.error_message();
      EXPECT_EQ(o.responses, 60000 + 2);  // plan, rows, summary
    }
    EXPECT_LT(growth_mib, bound_mib);
  }
  ExpectDrained(server);
  const long after_kib = SettledRssKiB(server, baseline_kib + 48 * 1024);
  std::printf("[ server ] RSS after the calls: %.1f MiB (baseline %.1f MiB)\n", after_kib / 1024.0,
              baseline_kib / 1024.0);
  EXPECT_LT(after_kib, baseline_kib + 48 * 1024);
}

TEST(Amplification, MaxTensorsPerCallIsConfigurable) {
  ServerProcess server({"--max-tensors-per-call=1000", "--log-calls=false"});
  ASSERT_GT(server.port(), 0) << server.log();
  const CallOutcome over = Converse(server, {TinyTensorsHeader(1001)}, 30);
  EXPECT_EQ(over.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(over.status.error_message().find("1001"), std::string::npos);
  EXPECT_NE(over.status.error_message().find("1000"), std::string::npos);
  const CallOutcome at = Converse(server, {TinyTensorsHeader(1000)}, 30);
  EXPECT_TRUE(at.status.ok()) << at.status.error_message();
  ExpectDrained(server);
}

// An idle stream: header, 1 MiB of a declared 32 MiB tensor, then nothing (the stream
// stays open). Returns the final status once the server ends the call (or the deadline).
struct IdleClient {
  CallOutcome out;
  std::thread thread;
  std::atomic<bool> holding{false};  // the plan came and the first chunk is written

  IdleClient(const ServerProcess& s, const std::string& model, int deadline_seconds) {
    thread = std::thread([this, &s, model, deadline_seconds] {
      auto stub = Stub(s);
      grpc::ClientContext ctx;
      Deadline(&ctx, deadline_seconds);
      const auto t0 = Clock::now();
      std::unique_ptr<Stream> stream = stub->Analyze(&ctx);
      v1::AnalyzeResponse resp;
      if (stream->Write(OneTensorHeader(model, {8192, 1024})) && stream->Read(&resp) &&
          stream->Write(Chunk(0, 0, 1 << 20))) {
        holding.store(true);
        while (stream->Read(&resp)) {
        }
      }
      out.status = stream->Finish();
      out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    });
  }
  ~IdleClient() {
    if (thread.joinable()) thread.join();
  }
};

void WaitUntil(const std::atomic<bool>& flag, std::chrono::seconds limit) {
  const auto until = Clock::now() + limit;
  while (!flag.load() && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Finding 2: two clients that send a header and 1 MiB of a declared 32 MiB tensor and go
// quiet held the whole budget; a normal client waited until --max-call-seconds ended them
// (checked only when a message arrived: never, for a quiet stream). Now a timer ends a
// call that holds budget without progress while others wait (--stall-seconds: the first
// quiet call to pass it frees enough here), and the normal client finishes in bounded
// time with results identical to embedded mode; the other quiet call goes at
// --idle-seconds.
TEST(IdleStreams, QuietCallsHoldingTheBudgetDoNotStarveANormalOne) {
  ServerProcess server({"--queue-bytes=64M", "--max-layer-bytes=32M", "--workers=2",
                        "--stall-seconds=1", "--idle-seconds=5", "--max-call-seconds=40"});
  ASSERT_GT(server.port(), 0) << server.log();
  IdleClient a(server, "idle-a", 60);
  IdleClient b(server, "idle-b", 60);
  WaitUntil(a.holding, std::chrono::seconds(20));
  WaitUntil(b.holding, std::chrono::seconds(20));
  ASSERT_TRUE(a.holding.load() && b.holding.load());
  EXPECT_EQ(Info(server).bytes_in_use(), 64u << 20);  // the budget is all theirs

  SyntheticModel model = MakeMixedModel(7, false);
  model.tensors.push_back(MakeTensor("extra.weight", DType::kF32, {1024, 512}, 3));
  const auto t0 = Clock::now();
  RemoteOptions remote = Remote(server);
  remote.deadline_seconds = 30;
  auto got = AnalyzeRemote(remote, "normal", AnalysisOptions{}, model.Source());
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(got.ok()) << got.status() << server.log();
  EngineConfig config;
  config.device = Device::kCpu;
  const auto expected = AnalyzeModel(**Engine::Create(config), model.Source());
  ASSERT_EQ(got->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*got)[i].alpha, expected[i].alpha);
    EXPECT_EQ((*got)[i].norm, expected[i].norm);
  }
  std::printf("[ client ] normal client done in %.2f s\n", seconds);
  // Bounded well below --max-call-seconds (40 s, what it waited before the timers), with
  // room for a CPU-starved machine (it failed once at 10 s with builds running beside it).
  EXPECT_LT(seconds, 20);
  a.thread.join();
  b.thread.join();
  for (const IdleClient* c : {&a, &b}) {
    std::printf("[ client ] idle client ended after %.2f s: %s\n", c->out.seconds,
                c->out.status.error_message().c_str());
    EXPECT_EQ(c->out.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_NE(c->out.status.error_message().find("no data for"), std::string::npos)
        << c->out.status.error_message();
    EXPECT_LT(c->out.seconds, 20);
  }
  ExpectDrained(server);
}

// A quiet call with nobody waiting is ended by --idle-seconds (a timer: it sends nothing
// that could trigger a check), and so is a connection that never sends its header.
TEST(IdleStreams, IdleSecondsEndsAQuietCallAndFreesItsBudget) {
  ServerProcess server({"--queue-bytes=64M", "--max-layer-bytes=32M", "--idle-seconds=2"});
  ASSERT_GT(server.port(), 0) << server.log();
  IdleClient a(server, "idle", 60);
  WaitUntil(a.holding, std::chrono::seconds(20));
  ASSERT_TRUE(a.holding.load());
  EXPECT_EQ(Info(server).bytes_in_use(), 32u << 20);

  auto stub = Stub(server);
  grpc::ClientContext ctx;
  Deadline(&ctx, 60);
  const auto t0 = Clock::now();
  std::unique_ptr<Stream> silent = stub->Analyze(&ctx);  // no header at all
  v1::AnalyzeResponse resp;
  while (silent->Read(&resp)) {
  }
  const grpc::Status st = silent->Finish();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
  EXPECT_NE(st.error_message().find("no data for 2 s"), std::string::npos) << st.error_message();
  EXPECT_GT(seconds, 1.5);
  EXPECT_LT(seconds, 6);
  a.thread.join();
  EXPECT_EQ(a.out.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_NE(a.out.status.error_message().find("--idle-seconds"), std::string::npos);
  EXPECT_LT(a.out.seconds, 8);
  ExpectDrained(server);
}

// --max-call-seconds by a timer: a quiet call is ended on time, not at its next message.
TEST(IdleStreams, MaxCallSecondsIsATimer) {
  ServerProcess server({"--queue-bytes=64M", "--max-layer-bytes=32M", "--max-call-seconds=2"});
  ASSERT_GT(server.port(), 0) << server.log();
  IdleClient a(server, "long", 60);
  a.thread.join();
  EXPECT_EQ(a.out.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_NE(a.out.status.error_message().find("--max-call-seconds"), std::string::npos)
      << a.out.status.error_message();
  EXPECT_LT(a.out.seconds, 6);
  ExpectDrained(server);
}

// The `code` of the call log line for `model`; empty if none.
std::string LoggedCode(const std::string& log, const std::string& model) {
  const size_t at = log.find("\"model\":\"" + model + "\"");
  if (at == std::string::npos) return "";
  const size_t code = log.find("\"code\":\"", at);
  if (code == std::string::npos) return "";
  const size_t begin = code + 8;
  return log.substr(begin, log.find('"', begin) - begin);
}

// Finding 3: a client's deadline or cancel mid-stream was logged as INVALID_ARGUMENT
// ("stream ended with ... not sent"): the failed read came before OnCancel.
TEST(CallLog, ClientCancelAndDeadlineAreLoggedAsSuch) {
  ServerProcess server({"--queue-bytes=16M", "--max-layer-bytes=4M"});
  ASSERT_GT(server.port(), 0) << server.log();
  auto stub = Stub(server);
  for (int round = 0; round < 3; ++round) {
    {
      grpc::ClientContext ctx;
      Deadline(&ctx, 30);
      std::unique_ptr<Stream> stream = stub->Analyze(&ctx);
      ASSERT_TRUE(stream->Write(OneTensorHeader(absl::StrCat("cancel", round), {1024, 1024})));
      v1::AnalyzeResponse plan;
      ASSERT_TRUE(stream->Read(&plan));
      ASSERT_TRUE(stream->Write(Chunk(0, 0, 1 << 20)));
      ctx.TryCancel();
      EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
    }
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      std::unique_ptr<Stream> stream = stub->Analyze(&ctx);
      ASSERT_TRUE(stream->Write(OneTensorHeader(absl::StrCat("deadline", round), {1024, 1024})));
      ASSERT_TRUE(stream->Write(Chunk(0, 0, 1 << 20)));
      v1::AnalyzeResponse resp;
      while (stream->Read(&resp)) {
      }
      EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    }
  }
  ExpectDrained(server);
  const std::string log = server.log();
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(LoggedCode(log, absl::StrCat("cancel", round)), "CANCELLED") << log;
    EXPECT_EQ(LoggedCode(log, absl::StrCat("deadline", round)), "DEADLINE_EXCEEDED") << log;
  }
}

// Finding 3: a key that is not the certificate's was reported as "cannot listen on ...".
TEST(TlsStartup, KeyThatDoesNotMatchItsCertificateIsNamed) {
  const std::string dir = testing::TempDir();
  const std::string script =
      "cd " + dir +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout a.key -out a.pem -days 2 "
      "-subj /CN=localhost >/dev/null 2>&1 && openssl req -x509 -newkey rsa:2048 -nodes "
      "-keyout b.key -out b.pem -days 2 -subj /CN=localhost >/dev/null 2>&1";
  if (std::system(script.c_str()) != 0) GTEST_SKIP() << "openssl CLI not available";
  {
    ServerProcess mismatched({"--tls-cert=" + dir + "/a.pem", "--tls-key=" + dir + "/b.key"},
                             std::chrono::seconds(10));
    EXPECT_EQ(mismatched.port(), 0);
    const std::optional<int> code = mismatched.Wait(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 2);
    EXPECT_NE(mismatched.log().find("TLS key does not match certificate"), std::string::npos)
        << mismatched.log();
    EXPECT_EQ(mismatched.log().find("cannot listen"), std::string::npos) << mismatched.log();
  }
  {
    ServerProcess notpem({"--tls-cert=" + dir + "/a.key", "--tls-key=" + dir + "/a.key"},
                         std::chrono::seconds(10));
    EXPECT_EQ(notpem.Wait(std::chrono::seconds(10)).value_or(-1), 2);
    EXPECT_NE(notpem.log().find("holds no PEM certificate"), std::string::npos) << notpem.log();
  }
  {
    ServerProcess matched({"--tls-cert=" + dir + "/b.pem", "--tls-key=" + dir + "/b.key"});
    EXPECT_GT(matched.port(), 0) << matched.log();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace htsr
