// Benchmark (report only, not a test): the same model analysed embedded (AnalyzeModel
// in-process) and remotely (AnalyzeRemote against a running htsr-server), end to end; then
// server throughput under N concurrent clients. Driven by remote_vs_embedded.sh.
//
//   htsr_remote_bench --server=ADDR --model=large|xlarge|ingest|small|PATH [--clients=8]
//   [--repeat=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "htsr/engine.h"
#include "readers/checkpoint_reader.h"
#include "remote/remote_analyzer.h"
#include "synthetic_model.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const std::string& name, const std::string& def) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind(prefix, 0) == 0) return argv[i] + prefix.size();
  }
  return def;
}

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string server = Flag(argc, argv, "server", "127.0.0.1:50051");
  const std::string model_arg = Flag(argc, argv, "model", "large");
  const int clients = std::atoi(Flag(argc, argv, "clients", "8").c_str());
  const int repeat = std::max(1, std::atoi(Flag(argc, argv, "repeat", "3").c_str()));
  // --remote_only=1: no embedded runs (profiling the transport alone).
  const bool remote_only = Flag(argc, argv, "remote_only", "0") == "1";

  htsr::testing::SyntheticModel synthetic;
  std::unique_ptr<htsr::CheckpointReader> reader;
  htsr::TensorSource source;
  // The synthetic models: name, layer name prefix, layers, shape (f32).
  struct Synthetic {
    const char* name;
    const char* prefix;
    int layers;
    std::vector<int64_t> shape;
  };
  const Synthetic kModels[] = {
      {"large", "big", 6, {2048, 1024}},
      {"xlarge", "big", 4, {4096, 2048}},
      // Transport-bound: tall-skinny layers (Gram 32x32) cost almost nothing to solve, so
      // the remote time is the server's ingest of 64 x 6 MiB.
      {"ingest", "tall", 64, {49152, 32}},
      {"small", "s", 400, {128, 64}},
  };
  const Synthetic* chosen = nullptr;
  for (const Synthetic& m : kModels) {
    if (model_arg == m.name) chosen = &m;
  }
  if (chosen != nullptr) {
    for (int l = 0; l < chosen->layers; ++l) {
      synthetic.tensors.push_back(htsr::testing::MakeTensor(
          absl::StrCat(chosen->prefix, l, ".weight"), htsr::DType::kF32, chosen->shape, l));
    }
    source = synthetic.Source();
  } else {
    auto r = htsr::OpenCheckpoint(model_arg);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
      return 2;
    }
    reader = *std::move(r);
    source.tensors = reader->Tensors();
    const htsr::CheckpointReader* rp = reader.get();
    source.load = [rp](size_t i) { return rp->Load(i); };
  }
  uint64_t bytes = 0;
  for (const auto& t : source.tensors) {
    bytes += static_cast<uint64_t>(t.NumElements().value_or(0)) * htsr::DTypeSize(t.dtype);
  }

  htsr::EngineConfig config;
  config.device = htsr::Device::kCpu;
  auto engine = htsr::Engine::Create(config);
  if (!engine.ok()) return 2;
  htsr::RemoteOptions remote;
  remote.address = server;
  remote.streams = std::max(1, std::atoi(Flag(argc, argv, "streams", "1").c_str()));
  if (const std::string c = Flag(argc, argv, "chunk_bytes", ""); !c.empty()) {
    remote.chunk_bytes = std::strtoull(c.c_str(), nullptr, 10);
  }
  if (const char* tok = std::getenv("HTSR_TOKEN")) remote.token = tok;

  // Interleaved runs, best of `repeat` for each mode (the 2-core box is shared).
  double best_embedded = 1e30, best_remote = 1e30;
  size_t layers = 0;
  bool identical = true;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    const std::vector<htsr::LayerResult> e =
        remote_only ? std::vector<htsr::LayerResult>{} : htsr::AnalyzeModel(**engine, source);
    best_embedded = std::min(best_embedded, Seconds(t0));
    t0 = Clock::now();
    auto rr = htsr::AnalyzeRemote(remote, model_arg, htsr::AnalysisOptions{}, source);
    best_remote = std::min(best_remote, Seconds(t0));
    if (!rr.ok()) {
      std::fprintf(stderr, "remote: %s\n", std::string(rr.status().message()).c_str());
      return 1;
    }
    layers = rr->size();
    if (remote_only) continue;
    for (size_t i = 0; i < e.size() && i < rr->size(); ++i) {
      identical &= e[i].alpha == (*rr)[i].alpha && e[i].norm == (*rr)[i].norm;
    }
    identical &= e.size() == rr->size();
  }
  std::printf("device: %s\n", (*engine)->backend().Description().c_str());
  std::printf("model %s: %zu layers, %.1f MiB\n", model_arg.c_str(), layers, bytes / 1048576.0);
  if (remote_only) {
    std::printf("remote %.3f s (best of %d), %.0f MB/s\n", best_remote, repeat,
                bytes / 1e6 / best_remote);
  } else {
    std::printf("embedded %.3f s   remote %.3f s   overhead %+.1f%%   results identical: %s\n",
                best_embedded, best_remote, 100.0 * (best_remote / best_embedded - 1.0),
                identical ? "yes" : "NO");
  }

  if (clients > 0) {
    const auto t0 = Clock::now();
    std::vector<std::thread> threads;
    std::vector<bool> ok(clients, false);
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        ok[c] =
            htsr::AnalyzeRemote(remote, absl::StrCat("client", c), htsr::AnalysisOptions{}, source)
                .ok();
      });
    }
    for (auto& t : threads) t.join();
    const double s = Seconds(t0);
    const int good = static_cast<int>(std::count(ok.begin(), ok.end(), true));
    std::printf("%d concurrent clients: %.3f s, %d ok, %.1f layers/s, %.1f MB/s\n", clients, s,
                good, good * layers / s, good * bytes / 1e6 / s);
  }
  return identical ? 0 : 1;
}
