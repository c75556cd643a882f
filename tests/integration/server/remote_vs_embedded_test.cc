// Remote mode returns exactly what embedded mode returns: same layers, ids, plans and
// numbers (bit for bit), for every dtype and layer kind, with and without the optional
// analyses, at odd chunk sizes, and with 16 clients at once. The server runs in-process
// on 127.0.0.1 with an ephemeral port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "convert/proto_convert.h"
#include "htsr/engine.h"
#include "htsr/summary.h"
#include "readers/checkpoint_reader.h"
#include "remote/remote_analyzer.h"
#include "server/htsr_server.h"
#include "server_calls.h"
#include "synthetic_model.h"

namespace htsr {
namespace {

using ::htsr::testing::MakeMixedModel;
using ::htsr::testing::SyntheticModel;

std::unique_ptr<server::HtsrServer> StartServer() {
  server::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.device = Device::kCpu;
  config.workers = 2;
  config.queue_bytes = 8 << 20;
  config.max_layer_bytes = 4 << 20;
  config.log_calls = false;
  auto s = server::HtsrServer::Start(config);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

std::vector<LayerResult> Embedded(const SyntheticModel& model, const AnalysisOptions& options,
                                  bool keep_evals) {
  EngineConfig config;
  config.options = options;
  config.device = Device::kCpu;
  config.keep_evals = keep_evals;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return AnalyzeModel(**engine, model.Source());
}

// Every field, via the wire form (the converter test proves the wire form is lossless);
// `seconds` is wall time, not a result.
void ExpectSameResults(const std::vector<LayerResult>& embedded,
                       const std::vector<LayerResult>& remote) {
  ASSERT_EQ(embedded.size(), remote.size());
  for (size_t i = 0; i < embedded.size(); ++i) {
    std::string report;
    EXPECT_TRUE(testing::SameLayerResult(embedded[i], remote[i], &report))
        << "layer " << embedded[i].plan.name << ": " << report;
    // And the identification columns directly, to make a failure obvious.
    EXPECT_EQ(embedded[i].plan.layer_id, remote[i].plan.layer_id);
    EXPECT_EQ(embedded[i].plan.name, remote[i].plan.name);
    EXPECT_EQ(embedded[i].status, remote[i].status);
    EXPECT_EQ(std::memcmp(&embedded[i].alpha, &remote[i].alpha, sizeof(double)), 0);
  }
}

void ExpectSameSummary(const ModelSummary& a, const ModelSummary& b) {
  v1::ModelSummary pa, pb;
  ToProto(a, &pa);
  ToProto(b, &pb);
  google::protobuf::util::DefaultFieldComparator exact;
  exact.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer diff;
  diff.set_field_comparator(&exact);
  std::string report;
  diff.ReportDifferencesToString(&report);
  EXPECT_TRUE(diff.Compare(pa, pb)) << report;
}

RemoteOptions Remote(const server::HtsrServer& s) {
  RemoteOptions r;
  r.address = "127.0.0.1:" + std::to_string(s.port());
  r.deadline_seconds = 120;
  return r;
}

// A listener that accepts the first connection and drops it (a server still starting, a
// connection reset): the call fails UNAVAILABLE before any answer and is made again on a
// fresh connection, which the real server, started on that port meanwhile, answers.
TEST(RemoteVsEmbedded, CallIsMadeAgainAfterAConnectionFailure) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  const SyntheticModel model = MakeMixedModel(11, /*with_load_error=*/false);
  RemoteOptions remote;
  remote.address = address;
  remote.deadline_seconds = 120;
  remote.connect_retry_seconds = {0.5, 5.0};  // the server is up well before 5.5 s
  absl::StatusOr<std::vector<LayerResult>> got = absl::UnknownError("not run");
  std::thread client([&] { got = AnalyzeRemote(remote, "m", {}, model.Source()); });
  const int first = accept(listener, nullptr, nullptr);
  if (first >= 0) close(first);
  close(listener);
  server::ServerConfig config;
  config.listen = address;
  config.device = Device::kCpu;
  config.workers = 2;
  config.log_calls = false;
  absl::StatusOr<std::unique_ptr<server::HtsrServer>> server = server::HtsrServer::Start(config);
  client.join();
  ASSERT_GE(first, 0);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameResults(Embedded(model, {}, false), *got);

  // Without retries the same failure is the call's error.
  const int again = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(again, 0);
  setsockopt(again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  addr.sin_port = 0;
  len = sizeof(addr);
  ASSERT_EQ(bind(again, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(again, 8), 0);
  ASSERT_EQ(getsockname(again, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  remote.address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  remote.connect_retry_seconds.clear();
  std::thread dropper([&] {
    const int c = accept(again, nullptr, nullptr);
    if (c >= 0) close(c);
  });
  const absl::StatusOr<std::vector<LayerResult>> failed =
      AnalyzeRemote(remote, "m", {}, model.Source());
  shutdown(again, SHUT_RDWR);  // unblocks accept if no connection came
  dropper.join();
  close(again);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
}

TEST(RemoteVsEmbedded, DefaultOptionsEveryLayerKindAndDtype) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const SyntheticModel model = MakeMixedModel(7, /*with_load_error=*/true);
  const AnalysisOptions options;
  const std::vector<LayerResult> embedded = Embedded(model, options, false);

  int callbacks = 0;
  ModelCallbacks cb;
  cb.on_layer = [&](const LayerResult&) { ++callbacks; };
  ModelSummary summary;
  auto remote = AnalyzeRemote(Remote(*server), "mixed", options, model.Source(), cb, &summary);
  ASSERT_TRUE(remote.ok()) << remote.status();
  ExpectSameResults(embedded, *remote);
  ExpectSameSummary(Summarize(embedded), summary);
  EXPECT_EQ(callbacks, static_cast<int>(remote->size()));

  // The model really exercises success, skipped and failed rows (else the test is weak).
  int success = 0, skipped = 0, failed = 0;
  for (const LayerResult& r : *remote) {
    success += r.status == LayerStatus::kSuccess;
    skipped += r.status == LayerStatus::kSkipped;
    failed += r.status == LayerStatus::kFailed;
  }
  EXPECT_GE(success, 6);
  EXPECT_GE(skipped, 1);
  EXPECT_GE(failed, 2);  // NaN layer + load error
}

TEST(RemoteVsEmbedded, OptionalAnalysesEvalsAndOddChunks) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const SyntheticModel model = MakeMixedModel(11, false);
  AnalysisOptions options;
  options.mp_fit = true;
  options.randomize = true;
  options.seed = 1234;
  options.detx = true;
  options.fix_fingers = FixFingers::kClipXmax;
  options.min_evals = 20;
  const std::vector<LayerResult> embedded = Embedded(model, options, /*keep_evals=*/true);
  RemoteOptions remote = Remote(*server);
  remote.keep_evals = true;
  remote.chunk_bytes = 1001;  // chunk boundaries fall inside elements
  auto results = AnalyzeRemote(remote, "opts", options, model.Source());
  ASSERT_TRUE(results.ok()) << results.status();
  ExpectSameResults(embedded, *results);
  bool any_evals = false, any_mp = false;
  for (const LayerResult& r : *results) {
    any_evals |= !r.evals.empty();
    any_mp |= r.sigma_mp.has_value();
  }
  EXPECT_TRUE(any_evals);
  EXPECT_TRUE(any_mp);
}

// pool = false: one row per conv slice (reference WW2x mode), ordered by (layer, slice).
TEST(RemoteVsEmbedded, UnpooledConvRows) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const SyntheticModel model = MakeMixedModel(13, true);
  AnalysisOptions options;
  options.pool = false;
  const std::vector<LayerResult> embedded = Embedded(model, options, false);
  auto remote = AnalyzeRemote(Remote(*server), "unpooled", options, model.Source());
  ASSERT_TRUE(remote.ok()) << remote.status();
  ExpectSameResults(embedded, *remote);
  size_t conv_rows = 0;
  for (const LayerResult& r : *remote) conv_rows += r.plan.type == LayerType::kConv2d;
  EXPECT_EQ(conv_rows, 9u);  // 3x3 kernel
}

// --layers: only selected layers, with the ids of the full plan.
TEST(RemoteVsEmbedded, SelectedLayersOnly) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const SyntheticModel model = MakeMixedModel(17, false);
  ModelCallbacks cb;
  cb.select = [](const LayerPlan& p) { return p.layer_id % 2 == 1; };
  EngineConfig config;
  config.device = Device::kCpu;
  auto engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok());
  const std::vector<LayerResult> embedded = AnalyzeModel(**engine, model.Source(), cb);
  ModelSummary summary;
  auto remote =
      AnalyzeRemote(Remote(*server), "sel", AnalysisOptions{}, model.Source(), cb, &summary);
  ASSERT_TRUE(remote.ok()) << remote.status();
  ExpectSameResults(embedded, *remote);
  ExpectSameSummary(Summarize(embedded), summary);
  ASSERT_FALSE(remote->empty());
  for (const LayerResult& r : *remote) EXPECT_EQ(r.plan.layer_id % 2, 1);
}

TEST(RemoteVsEmbedded, SixteenConcurrentClients) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  constexpr int kClients = 16;
  std::vector<SyntheticModel> models;
  std::vector<std::vector<LayerResult>> expected;
  for (int i = 0; i < kClients; ++i) {
    models.push_back(MakeMixedModel(100 + i, i % 3 == 0));
    expected.push_back(Embedded(models.back(), AnalysisOptions{}, false));
  }
  std::vector<absl::StatusOr<std::vector<LayerResult>>> got(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      RemoteOptions remote = Remote(*server);
      remote.chunk_bytes = 4096 + 512 * i;
      got[i] = AnalyzeRemote(remote, "client" + std::to_string(i), AnalysisOptions{},
                             models[i].Source());
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(got[i].ok()) << "client " << i << ": " << got[i].status();
    ExpectSameResults(expected[i], *got[i]);
  }
  EXPECT_LE(server->budget().peak(), server->config().queue_bytes);
  EXPECT_EQ(server->budget().used(), 0u);
}

// A layer above the engine's "large" threshold runs alone with every BLAS thread, in
// both modes; OpenBLAS results depend on the thread count, so this checks the server
// follows the same policy (bit-identical, not merely close), also when --streams splits
// the model (no call may be left with a lone small layer: layer_split.h).
TEST(RemoteVsEmbedded, LargeLayerBitIdentical) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  SyntheticModel model;
  model.tensors.push_back(testing::MakeTensor("big.weight", DType::kF32, {1024, 512}, 5));
  model.tensors.push_back(testing::MakeTensor("small.weight", DType::kF32, {64, 48}, 6));
  model.tensors.push_back(testing::MakeTensor("big2.weight", DType::kBF16, {600, 700}, 7));
  model.tensors.push_back(testing::MakeTensor("small2.weight", DType::kF32, {300, 200}, 8));
  const std::vector<LayerResult> embedded = Embedded(model, AnalysisOptions{}, false);
  for (int streams : {1, 2}) {
    RemoteOptions remote = Remote(*server);
    remote.streams = streams;
    auto got = AnalyzeRemote(remote, "large", AnalysisOptions{}, model.Source());
    ASSERT_TRUE(got.ok()) << got.status();
    ExpectSameResults(embedded, *got);
    EXPECT_EQ((*got)[0].status, LayerStatus::kSuccess);
  }
}

// The checked-in fixtures, read through the real readers (safetensors, .pt, npz, npy).
TEST(RemoteVsEmbedded, CheckpointFixtures) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  for (const char* file : {"mixed.safetensors", "degenerate.safetensors", "state_dict.pt",
                           "nested_state_dict.pt", "named_arrays.npz", "single.npy"}) {
    SCOPED_TRACE(file);
    const std::string path = std::string(HTSR_TEST_DATA_DIR) + "/synthetic/fixtures/" + file;
    auto reader = OpenCheckpoint(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    TensorSource source;
    source.tensors = (*reader)->Tensors();
    const CheckpointReader* r = reader->get();
    source.load = [r](size_t i) { return r->Load(i); };

    AnalysisOptions options;
    // npz/npy arrays are not named "*.weight".
    options.all_tensors = path.find(".np") != std::string::npos;
    EngineConfig config;
    config.options = options;
    config.device = Device::kCpu;
    auto engine = Engine::Create(config);
    ASSERT_TRUE(engine.ok());
    const std::vector<LayerResult> embedded = AnalyzeModel(**engine, source);
    ModelSummary summary;
    auto remote = AnalyzeRemote(Remote(*server), path, options, source, {}, &summary);
    ASSERT_TRUE(remote.ok()) << remote.status();
    EXPECT_FALSE(remote->empty());
    ExpectSameResults(embedded, *remote);
    ExpectSameSummary(Summarize(embedded), summary);
  }
}

// --streams: one model split over several concurrent calls, each on its own connection,
// returns what one call (and embedded mode) returns: every row, the summary, callbacks
// that never overlap; with --layers too.
TEST(RemoteVsEmbedded, SplitOverStreams) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const SyntheticModel model = MakeMixedModel(23, /*with_load_error=*/true);
  const std::vector<LayerResult> embedded = Embedded(model, AnalysisOptions{}, false);
  for (int streams : {2, 3, 64}) {
    SCOPED_TRACE(streams);
    RemoteOptions remote = Remote(*server);
    remote.streams = streams;
    std::atomic<int> inside{0}, overlaps{0}, callbacks{0};
    ModelCallbacks cb;
    cb.on_layer = [&](const LayerResult&) {
      if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      callbacks.fetch_add(1);
      inside.fetch_sub(1);
    };
    ModelSummary summary;
    std::string peer;
    auto got =
        AnalyzeRemote(remote, "split", AnalysisOptions{}, model.Source(), cb, &summary, &peer);
    ASSERT_TRUE(got.ok()) << got.status();
    ExpectSameResults(embedded, *got);
    ExpectSameSummary(Summarize(embedded), summary);
    EXPECT_EQ(callbacks.load(), static_cast<int>(got->size()));
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_NE(peer.find("127.0.0.1"), std::string::npos) << peer;
  }

  // With --layers: only the selected layers, split.
  ModelCallbacks select;
  select.select = [](const LayerPlan& p) { return p.layer_id % 3 != 0; };
  EngineConfig config;
  config.device = Device::kCpu;
  auto engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok());
  const std::vector<LayerResult> selected = AnalyzeModel(**engine, model.Source(), select);
  RemoteOptions remote = Remote(*server);
  remote.streams = 4;
  auto got = AnalyzeRemote(remote, "split-sel", AnalysisOptions{}, model.Source(), select);
  ASSERT_TRUE(got.ok()) << got.status();
  ExpectSameResults(selected, *got);
  EXPECT_EQ(server->budget().used(), 0u);
}

// A model without a single layer still makes its call: an unreachable server is an error,
// not an empty success; a reachable one answers with the summary.
TEST(RemoteVsEmbedded, ModelWithoutLayersStillCallsTheServer) {
  SyntheticModel model;
  model.tensors.push_back(testing::MakeTensor("only.bias", DType::kF32, {16}, 1));
  for (int streams : {1, 4}) {
    RemoteOptions nowhere;
    nowhere.address = "127.0.0.1:1";
    nowhere.deadline_seconds = 20;
    nowhere.streams = streams;
    auto got = AnalyzeRemote(nowhere, "empty", AnalysisOptions{}, model.Source());
    EXPECT_FALSE(got.ok());
  }
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  RemoteOptions remote = Remote(*server);
  remote.streams = 3;
  ModelSummary summary;
  std::string peer;
  auto got = AnalyzeRemote(remote, "empty", AnalysisOptions{}, model.Source(), {}, &summary, &peer);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(summary.num_layers, 0);
  EXPECT_NE(peer.find("127.0.0.1"), std::string::npos);
}

// One stream failing fails the model with that stream's error (not the CANCELLED of the
// siblings it cancels), and leaves nothing behind on the server.
TEST(RemoteVsEmbedded, SplitCallFailureIsTheCause) {
  server::ServerConfig config;
  config.listen = "127.0.0.1:0";
  config.device = Device::kCpu;
  config.workers = 1;
  config.max_concurrent_calls = 1;
  config.log_calls = false;
  auto server = server::HtsrServer::Start(config);
  ASSERT_TRUE(server.ok()) << server.status();
  SyntheticModel model;
  for (int l = 0; l < 3; ++l) {
    model.tensors.push_back(testing::MakeTensor("l" + std::to_string(l) + ".weight", DType::kF32,
                                                {1500, 1000}, 40 + l));
  }
  RemoteOptions remote = Remote(**server);
  remote.streams = 3;  // three calls at once against a limit of one
  auto got = AnalyzeRemote(remote, "busy", AnalysisOptions{}, model.Source());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kResourceExhausted) << got.status();
  for (int i = 0; i < 100 && (*server)->budget().used() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ((*server)->budget().used(), 0u);
}

TEST(RemoteVsEmbedded, ServerInfo) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto info = GetRemoteServerInfo(Remote(*server));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->api_version, "htsr.v1");
  EXPECT_EQ(info->backend, "cpu");
  EXPECT_FALSE(info->version.empty());
  EXPECT_EQ(info->queue_bytes, 8u << 20);
  EXPECT_EQ(info->max_layer_bytes, 4u << 20);
  EXPECT_FALSE(info->auth_required);
}

}  // namespace
}  // namespace htsr
