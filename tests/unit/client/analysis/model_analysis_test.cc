#include "analysis/model_analysis.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "../readers/reader_test_util.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace htsr::analysis {
namespace {

constexpr int kLayers = 6;
constexpr int kSide = 64;  // one layer: 16 KiB, four pages

std::string WriteModel(const std::string& name, size_t* data_start) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/htsr_model_analysis_", ::getpid(), "_", name);
  std::ofstream(path, std::ios::binary)
      << readers::testing::DenseSafetensors(kLayers, kSide, data_start);
  return path;
}

// Truncates the file when the first layer is done: a download or a training job rewriting
// the checkpoint while it is analysed. Deterministic: the engine runs one layer at a time.
class TruncatingProgress : public LayerProgress {
 public:
  TruncatingProgress(std::string path, off_t keep) : path_(std::move(path)), keep_(keep) {}
  void Advance(int64_t, const std::string&) override {
    if (!done_.exchange(true)) {
      EXPECT_EQ(::truncate(path_.c_str(), keep_), 0);
    }
  }
  void Finish() override {}

 private:
  std::string path_;
  off_t keep_;
  std::atomic<bool> done_{false};
};

std::unique_ptr<Engine> OneThreadEngine() {
  EngineConfig config;
  config.threads = 1;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

TEST(ModelAnalysisTest, IntactFileAnalysesEveryLayer) {
  size_t data_start = 0;
  const std::string path = WriteModel("intact.safetensors", &data_start);
  auto engine = OneThreadEngine();
  auto report = AnalyzeCheckpoint(path, *engine, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->layers.size(), static_cast<size_t>(kLayers));
  std::filesystem::remove(path);
}

// Used to die with SIGBUS (exit status 135, no message) when the engine read a layer past
// the file's new end.
TEST(ModelAnalysisTest, FileTruncatedDuringTheAnalysisIsAnErrorNamingIt) {
  size_t data_start = 0;
  const std::string path = WriteModel("truncated.safetensors", &data_start);
  auto engine = OneThreadEngine();
  ModelAnalysisOptions options;
  // Keeps the first layer and 100 bytes of the second.
  const off_t keep = static_cast<off_t>(data_start + kSide * kSide * 4 + 100);
  options.progress = [&](const std::string&, int64_t, int64_t) {
    return std::make_unique<TruncatingProgress>(path, keep);
  };
  auto report = AnalyzeCheckpoint(path, *engine, options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_HAS(report.status().message(), path + ": the file shrank while being read");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace htsr::analysis
