// Host-side planning math of the CUDA backend (kernels/cuda/launch_plan.h): runs in CI
// without a GPU.
#include "../../../kernels/cuda/launch_plan.h"

#include <cstdint>
#include <limits>
#include <optional>

#include "gtest/gtest.h"

namespace htsr::cuda_plan {
namespace {

TEST(PlanGramTest, TallMatrixUsesColumnGram) {
  // 100 x 7 row-major: W^T W is 7 x 7 = A A^T with A = W^T (7 x 100, lda 7).
  const GramShape g = PlanGram(100, 7);
  EXPECT_EQ(g.m, 7);
  EXPECT_EQ(g.k, 100);
  EXPECT_EQ(g.lda, 7);
  EXPECT_FALSE(g.transpose);
}

TEST(PlanGramTest, WideMatrixUsesRowGram) {
  // 3 x 50 row-major: W W^T is 3 x 3 = A^T A with A = W^T (50 x 3, lda 50).
  const GramShape g = PlanGram(3, 50);
  EXPECT_EQ(g.m, 3);
  EXPECT_EQ(g.k, 50);
  EXPECT_EQ(g.lda, 50);
  EXPECT_TRUE(g.transpose);
}

TEST(PlanGramTest, SquareAndVectorShapes) {
  EXPECT_FALSE(PlanGram(64, 64).transpose);
  EXPECT_EQ(PlanGram(64, 64).m, 64);
  const GramShape row = PlanGram(1, 31);
  EXPECT_EQ(row.m, 1);
  EXPECT_EQ(row.k, 31);
  EXPECT_TRUE(row.transpose);
  const GramShape col = PlanGram(31, 1);
  EXPECT_EQ(col.m, 1);
  EXPECT_FALSE(col.transpose);
}

TEST(CheckedMulTest, DetectsOverflowAndNegatives) {
  EXPECT_EQ(CheckedMul(3, 4), std::optional<int64_t>(12));
  EXPECT_EQ(CheckedMul(0, std::numeric_limits<int64_t>::max()), std::optional<int64_t>(0));
  EXPECT_FALSE(CheckedMul(int64_t{1} << 32, int64_t{1} << 31).has_value());
  EXPECT_FALSE(CheckedMul(-1, 5).has_value());
}

TEST(GramPipelineBytesTest, CountsEveryBuffer) {
  // 10 x 4, f64: input 40*4 + widened 40*8 + Gram 16*8 + eigenvalues 4*(8+8) + info 4.
  EXPECT_EQ(GramPipelineBytes(10, 4, 1, true), std::optional<int64_t>(160 + 320 + 128 + 64 + 4));
  // f32: no widened copy, Gram and eigenvalues in float, output still double.
  EXPECT_EQ(GramPipelineBytes(10, 4, 1, false), std::optional<int64_t>(160 + 64 + 48 + 4));
  EXPECT_EQ(GramPipelineBytes(10, 4, 3, true),
            std::optional<int64_t>(3 * (160 + 320 + 128 + 64 + 4)));
  EXPECT_FALSE(GramPipelineBytes(int64_t{1} << 40, int64_t{1} << 30, 1, true).has_value());
}

TEST(LargestFittingChunkTest, HalvesUntilItFits) {
  auto need = [](int64_t c) { return std::optional<int64_t>(100 * c + 50); };
  EXPECT_EQ(LargestFittingChunk(9, 100000, need), 9);
  // 9 -> 5 -> 3: 350 <= 400.
  EXPECT_EQ(LargestFittingChunk(9, 400, need), 3);
  EXPECT_EQ(LargestFittingChunk(9, 150, need), 1);
  EXPECT_EQ(LargestFittingChunk(9, 149, need), 0);
  auto overflow = [](int64_t c) -> std::optional<int64_t> {
    if (c > 2) return std::nullopt;
    return 10 * c;
  };
  EXPECT_EQ(LargestFittingChunk(8, 1000, overflow), 2);
}

TEST(KsThreadsPerBlockTest, PowerOfTwoBetweenWarpAndCap) {
  EXPECT_EQ(KsThreadsPerBlock(2), 32);
  EXPECT_EQ(KsThreadsPerBlock(32), 32);
  EXPECT_EQ(KsThreadsPerBlock(33), 64);
  EXPECT_EQ(KsThreadsPerBlock(200), 256);
  EXPECT_EQ(KsThreadsPerBlock(1000000), 256);
  for (int64_t n : {2, 17, 64, 65, 129, 255, 256, 257}) {
    const int t = KsThreadsPerBlock(n);
    EXPECT_EQ(t % 32, 0) << n;
    EXPECT_EQ(t & (t - 1), 0) << n;
    EXPECT_LE(t, 256) << n;
  }
}

TEST(KsScanBytesTest, LinearInN) {
  const std::optional<int64_t> a = KsScanBytes(1000);
  const std::optional<int64_t> b = KsScanBytes(2000);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*b - *a, 1000 * 72);
  EXPECT_FALSE(KsScanBytes(std::numeric_limits<int64_t>::max() / 8).has_value());
}

TEST(TplScanBytesTest, LinearInValuesAndCandidates) {
  const std::optional<int64_t> a = TplScanBytes(1000, 500);
  const std::optional<int64_t> b = TplScanBytes(2000, 500);
  const std::optional<int64_t> c = TplScanBytes(1000, 900);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*b - *a, 1000 * 16);
  EXPECT_EQ(*c - *a, 400 * 48);
  EXPECT_FALSE(TplScanBytes(std::numeric_limits<int64_t>::max() / 8, 1).has_value());
  EXPECT_FALSE(TplScanBytes(1, std::numeric_limits<int64_t>::max() / 40).has_value());
  EXPECT_FALSE(TplScanBytes(std::numeric_limits<int64_t>::max() / 32,
                            std::numeric_limits<int64_t>::max() / 96)
                   .has_value());
}

}  // namespace
}  // namespace htsr::cuda_plan
