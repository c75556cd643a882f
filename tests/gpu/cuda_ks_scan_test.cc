// CUDA KS scan vs the CPU scan on the same eigenvalues: same first-argmin index, alpha
// and D to 1e-9 relative (docs/spec.md §3).
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "../../kernels/cuda/cuda_backend.h"
#include "gpu_test_util.h"
#include "gtest/gtest.h"
#include "htsr/backend.h"
#include "htsr/ks_math.h"

namespace htsr {
namespace {

class CudaKsScanTest : public gpu_test::CudaVsCpuTest {
 protected:
  void ExpectSameScan(const std::vector<double>& sorted) {
    SCOPED_TRACE(testing::Message() << "n = " << sorted.size());
    const absl::StatusOr<PowerLawScan> want = cpu_->ScanPowerLaw(sorted);
    const absl::StatusOr<PowerLawScan> got = gpu_->ScanPowerLaw(sorted);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->best_index, want->best_index);
    if (std::isinf(want->alpha)) {
      EXPECT_EQ(got->alpha, want->alpha);
    } else {
      EXPECT_NEAR(got->alpha, want->alpha, 1e-9 * std::fabs(want->alpha));
    }
    EXPECT_NEAR(got->D, want->D, 1e-9 * std::fabs(want->D) + 1e-15);
  }
};

std::vector<double> ParetoSample(size_t n, double alpha, double xmin, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = xmin * std::pow(1.0 - u(rng), -1.0 / (alpha - 1.0));
  std::sort(x.begin(), x.end());
  return x;
}

// A Marchenko-Pastur bulk with a heavy-tailed top, like a trained layer's spectrum.
std::vector<double> BulkPlusTail(size_t bulk, size_t tail, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x;
  for (size_t i = 0; i < bulk; ++i) x.push_back(0.1 + 3.0 * u(rng) * u(rng));
  const std::vector<double> t = ParetoSample(tail, 2.5, 3.0, seed + 1);
  x.insert(x.end(), t.begin(), t.end());
  std::sort(x.begin(), x.end());
  return x;
}

TEST_F(CudaKsScanTest, SmallSizes) {
  ExpectSameScan({0.5, 2.0});
  ExpectSameScan({1e-4, 1e-3, 1e-2});
  for (size_t n : {4u, 5u, 31u, 32u, 33u, 255u, 256u, 257u}) {
    ExpectSameScan(ParetoSample(n, 3.0, 0.1, 100 + static_cast<uint32_t>(n)));
  }
}

TEST_F(CudaKsScanTest, ParetoAndBulkSpectra) {
  for (uint32_t seed = 0; seed < 4; ++seed) {
    ExpectSameScan(ParetoSample(1000, 2.0 + seed, 1e-3, seed));
    ExpectSameScan(BulkPlusTail(3000, 200, 10 + seed));
  }
  ExpectSameScan(ParetoSample(4096, 3.5, 1.0, 77));
  ExpectSameScan(BulkPlusTail(14000, 1000, 78));
}

TEST_F(CudaKsScanTest, TiesAndEqualTails) {
  // Duplicated values and an all-equal top (alpha = inf there, as on the CPU).
  std::vector<double> x = ParetoSample(300, 2.5, 0.5, 5);
  for (size_t i = 0; i + 1 < x.size(); i += 7) x[i + 1] = x[i];
  for (size_t i = x.size() - 5; i < x.size(); ++i) x[i] = x.back();
  std::sort(x.begin(), x.end());
  ExpectSameScan(x);
  ExpectSameScan(std::vector<double>(50, 2.0));
  ExpectSameScan({1.0, 1.0, 1.0, 2.0});
}

TEST_F(CudaKsScanTest, FirstArgminOnExactTies) {
  // Geometric values: every candidate's tail is the same shape, so many D_i tie exactly or
  // nearly; both must pick the first.
  std::vector<double> x;
  for (int i = 0; i < 64; ++i) x.push_back(std::pow(2.0, i / 4.0));
  ExpectSameScan(x);
}

TEST_F(CudaKsScanTest, RejectsBadInput) {
  EXPECT_EQ(gpu_->ScanPowerLaw(std::vector<double>{1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->ScanPowerLaw(std::vector<double>{2.0, 1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->ScanPowerLaw(std::vector<double>{ks::kFitThreshold, 1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gpu_->ScanPowerLaw(std::vector<double>{1.0, INFINITY}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace htsr
