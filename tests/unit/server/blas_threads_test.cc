// RunsWithAllThreads: which layers the server runs alone with every BLAS thread, so that
// its numbers are embedded AnalyzeModel's (bit for bit on the CPU) and a GPU layer never
// holds the lock that would serialise the host work of the others.
#include "server/blas_threads.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "htsr/cpu_backend.h"
#include "htsr/engine.h"

namespace htsr::server {
namespace {

// Any backend but the CPU counts as a device; this one computes on the CPU.
class NamedBackend final : public Backend {
 public:
  explicit NamedBackend(std::string name) : name_(std::move(name)), cpu_(CreateCpuBackend(1)) {}
  std::string_view Name() const override { return name_; }
  std::string Description() const override { return "test backend"; }
  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    return cpu_->SquaredSingularValues(batch, scale, precision, out);
  }
  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    return cpu_->ScanPowerLaw(sorted);
  }
  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    return cpu_->ScanTruncatedPowerLaw(sorted, candidates);
  }

 private:
  const std::string name_;
  std::unique_ptr<Backend> cpu_;
};

LayerPlan Plan(int64_t rows, int64_t cols) {
  return PlanLayer(TensorInfo{"x.weight", DType::kF32, {rows, cols}}, 1, AnalysisOptions{});
}

TEST(BlasThreadsTest, CpuBackendRunsLargeLayersAndALoneSmallOneWithAllThreads) {
  auto engine = Engine::CreateWithBackend(EngineConfig{}, nullptr);  // the CPU
  const LayerPlan large = Plan(4096, 4096), small = Plan(64, 128);
  ASSERT_TRUE(IsLargeLayer(large));
  ASSERT_FALSE(IsLargeLayer(small));
  EXPECT_TRUE(RunsWithAllThreads(*engine, large, 5));
  EXPECT_FALSE(RunsWithAllThreads(*engine, small, 5));
  EXPECT_TRUE(RunsWithAllThreads(*engine, small, 1));
}

TEST(BlasThreadsTest, OnADeviceNoLayerRunsAlone) {
  auto engine = Engine::CreateWithBackend(EngineConfig{}, std::make_unique<NamedBackend>("cuda"));
  const LayerPlan large = Plan(4096, 4096), small = Plan(64, 128);
  EXPECT_FALSE(RunsWithAllThreads(*engine, large, 5));
  // Not even a call's only layer: that lock would stop every other worker.
  EXPECT_FALSE(RunsWithAllThreads(*engine, large, 1));
  EXPECT_FALSE(RunsWithAllThreads(*engine, small, 1));
}

}  // namespace
}  // namespace htsr::server
