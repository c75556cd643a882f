// SquaredSingularValuesGrouped (kernels/cuda/grouped_batch.h), the GPU queue's batching
// helper, checked with the CPU backend: grouping must not change any result.
#include "../../../kernels/cuda/grouped_batch.h"

#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/backend.h"

namespace htsr {
namespace {

std::vector<float> RandomMatrix(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = normal(rng);
  return w;
}

void ExpectClose(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  const double lambda_max = want.back();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-12 * std::fabs(want[i]) + 1e-13 * lambda_max) << i;
  }
}

TEST(GroupedBatchTest, MatchesOneByOneWithPerJobScale) {
  std::unique_ptr<Backend> cpu = CreateCpuBackend(1);
  constexpr int64_t kRows = 12, kCols = 7, kJobs = 5;
  std::vector<std::vector<float>> mats;
  std::vector<std::vector<double>> outs(kJobs, std::vector<double>(kCols));
  std::vector<SameShapeJob> jobs;
  for (int j = 0; j < kJobs; ++j) mats.push_back(RandomMatrix(kRows, kCols, 100 + j));
  for (int j = 0; j < kJobs; ++j) {
    jobs.push_back({mats[j].data(), j % 2 == 0 ? 1.0 : std::sqrt(0.5), outs[j]});
  }
  // A tiny byte cap forces several backend calls (2 matrices per call).
  ASSERT_TRUE(SquaredSingularValuesGrouped(*cpu, kRows, kCols, jobs, Precision::kF64,
                                           2 * kRows * kCols * sizeof(float))
                  .ok());
  for (int j = 0; j < kJobs; ++j) {
    std::vector<double> want(kCols);
    const MatrixBatch one{mats[j].data(), 1, kRows, kCols};
    ASSERT_TRUE(cpu->SquaredSingularValues(one, jobs[j].scale, Precision::kF64, want).ok());
    ExpectClose(outs[j], want);
  }
}

TEST(GroupedBatchTest, RejectsBadJobs) {
  std::unique_ptr<Backend> cpu = CreateCpuBackend(1);
  std::vector<float> w = RandomMatrix(4, 3, 1);
  std::vector<double> short_out(2), out(3);
  const std::vector<SameShapeJob> bad_span = {{w.data(), 1.0, short_out}};
  EXPECT_EQ(SquaredSingularValuesGrouped(*cpu, 4, 3, bad_span, Precision::kF64).code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<SameShapeJob> no_data = {{nullptr, 1.0, out}};
  EXPECT_EQ(SquaredSingularValuesGrouped(*cpu, 4, 3, no_data, Precision::kF64).code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<SameShapeJob> nan_scale = {{w.data(), NAN, out}};
  EXPECT_EQ(SquaredSingularValuesGrouped(*cpu, 4, 3, nan_scale, Precision::kF64).code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<SameShapeJob> ok = {{w.data(), 1.0, out}};
  EXPECT_EQ(SquaredSingularValuesGrouped(*cpu, 0, 3, ok, Precision::kF64).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(SquaredSingularValuesGrouped(*cpu, 4, 3, {}, Precision::kF64).ok());
}

}  // namespace
}  // namespace htsr
