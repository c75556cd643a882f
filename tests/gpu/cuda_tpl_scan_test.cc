// CUDA TPL scan vs the host scan (docs/spec.md §3a) on real spectra (the layers of
// all-MiniLM-L6-v2, TPL and E_TPL candidates) and synthetic ones: D to 1e-6 absolute; the same
// xmin index unless two candidates' D are that close; at the same xmin alpha to 5e-6 and
// Lambda to 2e-5 relative (double on the device, long double on the host, a flat maximum:
// tests/unit/kernels/tpl_shared_math_test.cc measures the same on the CPU).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "../../kernels/cuda/cuda_backend.h"
#include "../unit/kernels/npz_spectra.h"
#include "gpu_test_util.h"
#include "gtest/gtest.h"
#include "htsr/backend.h"
#include "htsr/ks_math.h"
#include "htsr/tpl_fit.h"
#include "readers/checkpoint_reader.h"

namespace htsr {
namespace {

class CudaTplScanTest : public gpu_test::CudaVsCpuTest {
 protected:
  // Returns whether both chose the same xmin.
  bool ExpectSameScan(const std::vector<double>& x, const std::vector<int64_t>& candidates) {
    SCOPED_TRACE(testing::Message()
                 << "n = " << x.size() << ", " << candidates.size() << " candidates");
    const absl::StatusOr<TplScan> want = cpu_->ScanTruncatedPowerLaw(x, candidates);
    const absl::StatusOr<TplScan> got = gpu_->ScanTruncatedPowerLaw(x, candidates);
    EXPECT_TRUE(want.ok()) << want.status();
    EXPECT_TRUE(got.ok()) << got.status();
    if (!want.ok() || !got.ok()) return false;
    EXPECT_EQ(got->best_index < 0, want->best_index < 0);
    if (want->best_index < 0 || got->best_index < 0) return got->best_index == want->best_index;
    EXPECT_NEAR(got->D, want->D, 1e-6);
    if (got->best_index != want->best_index) return false;
    const double xmin = x[static_cast<size_t>(want->best_index)];
    const double lambda_want = static_cast<double>(want->z) / xmin;
    EXPECT_NEAR(static_cast<double>(got->alpha), static_cast<double>(want->alpha),
                5e-6 * static_cast<double>(want->alpha));
    EXPECT_NEAR(static_cast<double>(got->z) / xmin, lambda_want, 2e-5 * lambda_want + 1e-9);
    return true;
  }
};

std::map<std::string, std::vector<double>> RealSpectra() {
  return test_data::FitRanges(
      test_data::ReadNpzSpectra(HTSR_TEST_DATA_DIR "/real/all-MiniLM-L6-v2_evals.npz"));
}

// A Marchenko-Pastur-like bulk with a truncated heavy tail, like a trained layer's spectrum.
std::vector<double> BulkPlusTail(size_t bulk, size_t tail, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x;
  for (size_t i = 0; i < bulk; ++i) x.push_back(0.1 + 3.0 * u(rng) * u(rng));
  for (size_t i = 0; i < tail; ++i) {
    const double v = 3.0 * std::pow(1.0 - u(rng), -1.0 / 1.5);
    x.push_back(std::min(v, 400.0 + u(rng)));  // a soft cut-off: Lambda > 0
  }
  std::sort(x.begin(), x.end());
  return x;
}

TEST_F(CudaTplScanTest, RealSpectraTplAndExtendedTpl) {
  const auto spectra = RealSpectra();
  ASSERT_FALSE(spectra.empty());
  int same = 0, scans = 0;
  for (const FitType fit : {FitType::kTruncatedPowerLaw, FitType::kExtendedTpl}) {
    for (const auto& [name, x] : spectra) {
      SCOPED_TRACE(name);
      const std::vector<int64_t> candidates = TplCandidates(x, fit);
      if (candidates.empty()) continue;
      ++scans;
      same += ExpectSameScan(x, candidates) ? 1 : 0;
    }
  }
  // The CPU replay of this algorithm picks the same xmin on all of them
  // (tpl_shared_math_test); allow two near-ties for the device's own rounding.
  EXPECT_GE(same, scans - 2);
}

TEST_F(CudaTplScanTest, SyntheticSpectraAndTies) {
  for (uint32_t seed = 0; seed < 3; ++seed) {
    const std::vector<double> x = BulkPlusTail(2000, 300, 40 + seed);
    ExpectSameScan(x, TplCandidates(x, FitType::kTruncatedPowerLaw));
    ExpectSameScan(x, TplCandidates(x, FitType::kExtendedTpl));
  }
  // Duplicated values: only the first index of each value is a candidate or a KS point.
  std::vector<double> x = BulkPlusTail(400, 100, 7);
  for (size_t i = 0; i + 1 < x.size(); i += 5) x[i + 1] = x[i];
  std::sort(x.begin(), x.end());
  ExpectSameScan(x, TplCandidates(x, FitType::kTruncatedPowerLaw));
  // The smallest inputs: two values, one candidate.
  ExpectSameScan({0.5, 2.0}, {0});
  ExpectSameScan({1.0, 1.0, 3.0, 3.0}, {0});
}

TEST_F(CudaTplScanTest, EndToEndFitMatchesCpu) {
  const auto spectra = RealSpectra();
  ASSERT_FALSE(spectra.empty());
  AnalysisOptions options;
  options.fit = FitType::kTruncatedPowerLaw;
  const auto& [name, x] = *spectra.begin();
  SCOPED_TRACE(name);
  const TplFit want = FitTruncatedPowerLaw(x, options);
  const TplFit got = FitTruncatedPowerLaw(x, options, *gpu_);
  ASSERT_TRUE(want.ok) << want.failure;
  ASSERT_TRUE(got.ok) << got.failure;
  EXPECT_EQ(got.num_candidates, want.num_candidates);
  EXPECT_NEAR(got.D, want.D, 1e-6);
  if (got.xmin == want.xmin) {
    EXPECT_EQ(got.num_pl_spikes, want.num_pl_spikes);
    EXPECT_NEAR(got.alpha, want.alpha, 5e-6 * want.alpha);
    EXPECT_NEAR(got.Lambda, want.Lambda, 2e-5 * want.Lambda + 1e-9);
    EXPECT_NEAR(got.loglik, want.loglik, 1e-9 * std::fabs(want.loglik));
    EXPECT_NEAR(got.R, want.R, 1e-4 * std::max(1.0, std::fabs(want.R)));
  }
}

TEST_F(CudaTplScanTest, RejectsInputOutsideTheContract) {
  const std::vector<double> x = {0.5, 1.0, 2.0, 4.0};
  EXPECT_EQ(gpu_->ScanTruncatedPowerLaw(x, std::vector<int64_t>{3}).status().code(),
            absl::StatusCode::kInvalidArgument);  // the largest value is no candidate
  EXPECT_EQ(gpu_->ScanTruncatedPowerLaw(x, std::vector<int64_t>{1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);  // not increasing
  EXPECT_EQ(gpu_->ScanTruncatedPowerLaw(std::vector<double>{2.0, 1.0, 3.0}, std::vector<int64_t>{0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // not ascending
  const absl::StatusOr<TplScan> none = gpu_->ScanTruncatedPowerLaw(x, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->best_index, -1);
}

}  // namespace
}  // namespace htsr
