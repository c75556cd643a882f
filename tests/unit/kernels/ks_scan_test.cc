// KS scan and power-law fit driver (docs/spec.md §3) against an independent naive implementation,
// closed forms and Pareto samples.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/backend.h"
#include "htsr/cpu_backend.h"
#include "htsr/powerlaw_fit.h"

namespace htsr {
namespace {

// The reference's WWFit.fit_power_law_standard, written the O(n^2) way it is written there:
// plain tail sums, (x/xmin)^(1-alpha), first argmin.
PowerLawScan NaiveScan(const std::vector<double>& x) {
  const size_t n = x.size();
  std::vector<double> ds(n - 1, 1.0), alphas(n - 1);
  for (size_t i = 0; i + 1 < n; ++i) {
    const double k = static_cast<double>(n - i);
    double s = 0;
    for (size_t j = i; j < n; ++j) s += std::log(x[j]);
    const double alpha = 1 + k / (s - k * std::log(x[i]));
    alphas[i] = alpha;
    if (alpha > 1) {
      double d = 0;
      for (size_t m = 0; i + m < n; ++m) {
        d = std::max(d, std::fabs(1 - std::pow(x[i + m] / x[i], 1 - alpha) - m / k));
      }
      ds[i] = d;
    }
  }
  PowerLawScan out;
  out.best_index = std::min_element(ds.begin(), ds.end()) - ds.begin();
  out.alpha = alphas[out.best_index];
  out.D = ds[out.best_index];
  return out;
}

std::vector<double> ParetoSample(size_t n, double alpha, uint64_t seed) {
  // Density ~ x^-alpha on [1, inf): x = U^(-1/(alpha-1)).
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(n);
  for (double& v : x) v = std::pow(1.0 - u(rng), -1.0 / (alpha - 1.0));
  std::sort(x.begin(), x.end());
  return x;
}

TEST(KsScanTest, MatchesNaiveImplementation) {
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> ln(0.0, 1.5);
    std::vector<double> x(700 + 100 * seed);
    for (double& v : x) v = ln(rng);
    std::sort(x.begin(), x.end());
    const PowerLawScan naive = NaiveScan(x);
    for (int threads : {1, 2, 7}) {
      const PowerLawScan got = cpu::ScanPowerLaw(x, threads);
      EXPECT_EQ(got.best_index, naive.best_index) << "seed " << seed << " threads " << threads;
      EXPECT_NEAR(got.alpha, naive.alpha, 1e-9 * naive.alpha);
      EXPECT_NEAR(got.D, naive.D, 1e-9 * naive.D);
    }
  }
}

TEST(KsScanTest, ParetoAlphaConverges) {
  // MLE on an exact Pareto tail: the scan's alpha is within a few standard errors
  // (alpha-1)/sqrt(k) of the truth; with n = 20000 that is ~0.05 for the tail it picks.
  for (double alpha : {2.0, 3.5, 5.0}) {
    const std::vector<double> x = ParetoSample(20000, alpha, 42);
    const PowerLawScan got = cpu::ScanPowerLaw(x, 2);
    const double k = static_cast<double>(x.size() - got.best_index);
    EXPECT_NEAR(got.alpha, alpha, 4 * (alpha - 1) / std::sqrt(k) + 0.02) << "k=" << k;
  }
}

TEST(KsScanTest, AllEqualTail) {
  // 0.5 x permutation matrix: every eigenvalue 0.25 -> alpha inf, D = (k-1)/k, best k = 2.
  const std::vector<double> x(64, 0.25);
  const PowerLawScan got = cpu::ScanPowerLaw(x, 2);
  EXPECT_EQ(got.best_index, 62);
  EXPECT_TRUE(std::isinf(got.alpha));
  EXPECT_DOUBLE_EQ(got.D, 0.5);
}

class FitTest : public testing::Test {
 protected:
  std::unique_ptr<Backend> backend_ = cpu::NewCpuBackend(2);
};

TEST_F(FitTest, FailsBelowTwoPoints) {
  const std::vector<double> evals = {0.0, 1e-7, 3.0};
  const PowerLawFit fit = FitPowerLaw(evals, AnalysisOptions{}, *backend_);
  EXPECT_FALSE(fit.ok);
  EXPECT_EQ(fit.alpha, -1);
  EXPECT_EQ(fit.num_pl_spikes, -1);
}

TEST_F(FitTest, SmallNQuirks) {
  // 16 equal values: no candidate has a positive log sum -> alpha 0, D 1, sigma -1/4
  // (reference golden degenerate.perm16).
  const std::vector<double> flat(16, 0.25);
  const PowerLawFit f1 = FitPowerLaw(flat, AnalysisOptions{}, *backend_);
  ASSERT_TRUE(f1.ok);
  EXPECT_EQ(f1.alpha, 0.0);
  EXPECT_EQ(f1.D, 1.0);
  EXPECT_DOUBLE_EQ(f1.sigma, -0.25);
  // 5 points: fallback fit over all 5 with the n-1 correction, sigma = -1/sqrt(5).
  const std::vector<double> five = {1, 2, 3, 5, 8};
  const PowerLawFit f2 = FitPowerLaw(five, AnalysisOptions{}, *backend_);
  ASSERT_TRUE(f2.ok);
  double s = 0;
  for (double v : five) s += std::log(v);
  EXPECT_NEAR(f2.alpha, 1 + 4 / s, 1e-14);
  EXPECT_DOUBLE_EQ(f2.sigma, -1 / std::sqrt(5.0));
  EXPECT_EQ(f2.xmin, 1.0);
}

TEST_F(FitTest, ThresholdXmaxDropAndSpikes) {
  std::vector<double> evals = ParetoSample(500, 3.0, 9);
  evals.insert(evals.begin(), {0.0, 0.0, 5e-6});
  AnalysisOptions opt;
  const PowerLawFit base = FitPowerLaw(evals, opt, *backend_);
  ASSERT_TRUE(base.ok);
  const std::vector<double> nz(evals.begin() + 3, evals.end());
  const PowerLawScan naive = NaiveScan(nz);
  EXPECT_EQ(base.xmin, nz[naive.best_index]);
  EXPECT_EQ(base.xmax, nz.back());
  EXPECT_EQ(base.num_pl_spikes, static_cast<int64_t>(nz.size()) - naive.best_index);
  EXPECT_NEAR(base.sigma, (naive.alpha - 1) / std::sqrt(nz.size() - naive.best_index), 1e-12);

  opt.xmax_drop = 3;
  const PowerLawFit dropped = FitPowerLaw(evals, opt, *backend_);
  ASSERT_TRUE(dropped.ok);
  EXPECT_EQ(dropped.xmax, nz[nz.size() - 4]);
  opt.xmax_drop = 300;  // > half of 503
  EXPECT_FALSE(FitPowerLaw(evals, opt, *backend_).ok);
}

TEST_F(FitTest, ClipXmaxFindsFinger) {
  // A clean Pareto tail plus 3 huge outliers ("fingers"): clipping them lowers alpha.
  std::vector<double> evals = ParetoSample(400, 2.5, 4);
  for (double v : {1e5, 2e5, 4e5}) evals.push_back(v);
  AnalysisOptions opt;
  opt.fix_fingers = FixFingers::kClipXmax;
  const PowerLawFit fit = FitPowerLaw(evals, opt, *backend_);
  ASSERT_TRUE(fit.ok);
  const PowerLawFit raw = FitPowerLaw(evals, AnalysisOptions{}, *backend_);
  EXPECT_EQ(fit.raw_alpha, raw.alpha);
  if (fit.num_fingers > 0) {
    EXPECT_LT(fit.alpha + opt.finger_thresh, raw.alpha);
  } else {
    EXPECT_EQ(fit.alpha, raw.alpha);
  }
}

// Pareto quantiles (alpha 3) with a ripple, sorted: the spectrum the constants below were
// computed on with numpy, directly (alpha = 1 + k / sum ln(x/xmin), D = max |1 -
// (x/xmin)^(1-alpha) - m/k|; small N: 1 + (k-1) / sum ln(x/xmin)).
std::vector<double> RippledPareto(int n) {
  std::vector<double> x(n);
  for (int j = 0; j < n; ++j)
    x[j] = std::pow(1 - (j + 0.5) / 50.0, -0.5) * (1 + 0.3 * std::sin(static_cast<double>(j)));
  std::sort(x.begin(), x.end());
  return x;
}

TEST_F(FitTest, ScanCurveMatchesADirectComputation) {
  const std::vector<double> x = RippledPareto(50);
  const std::vector<ScanCandidate> curve = ScanCurve(x, 1000);
  ASSERT_EQ(curve.size(), 49u);  // every candidate but the last point
  struct Want {
    int i;
    double xmin, alpha, D;
  };
  for (const Want& w : {Want{0, 0.75506057053749098, 2.3242602326096056, 0.20621665919175958},
                        Want{10, 1.0248937036597232, 2.6893910706686097, 0.18350659078335382},
                        Want{25, 1.4387149000235426, 3.051329909409612, 0.089963037481720076},
                        Want{41, 2.3099413059928855, 3.0138476391672113, 0.25328456770000329}}) {
    EXPECT_NEAR(curve[w.i].xmin, w.xmin, 1e-13) << w.i;
    EXPECT_NEAR(curve[w.i].alpha, w.alpha, 1e-11) << w.i;
    EXPECT_NEAR(curve[w.i].D, w.D, 1e-11) << w.i;
    EXPECT_EQ(curve[w.i].tail, 50 - w.i);
  }
  // The fit is the curve's first argmin of D, to the last bit.
  const absl::StatusOr<TailFit> fit = FitTail(x, *backend_);
  ASSERT_TRUE(fit.ok());
  const auto best = std::min_element(curve.begin(), curve.end(),
                                     [](const auto& a, const auto& b) { return a.D < b.D; });
  EXPECT_EQ(best->xmin, fit->xmin);
  EXPECT_EQ(best->alpha, fit->alpha);
  EXPECT_EQ(best->D, fit->D);

  // Thinned: first and last candidates kept, evenly spaced, same values.
  const std::vector<ScanCandidate> thin = ScanCurve(x, 5);
  ASSERT_EQ(thin.size(), 5u);
  EXPECT_EQ(thin.front().xmin, curve.front().xmin);
  EXPECT_EQ(thin.back().xmin, curve.back().xmin);
  EXPECT_EQ(thin[2].D, curve[24].D);
  EXPECT_TRUE(ScanCurve(std::vector<double>{1.0}, 10).empty());
}

TEST_F(FitTest, ScanCurveSmallNUsesTheBiasCorrection) {
  const std::vector<double> x = [] {
    std::vector<double> v = RippledPareto(50);
    return std::vector<double>(v.begin(), v.begin() + 12);
  }();
  const std::vector<ScanCandidate> curve = ScanCurve(x, 100);
  ASSERT_EQ(curve.size(), 5u);  // tails of 12..8 points only
  EXPECT_NEAR(curve[0].alpha, 5.3613343990321995, 1e-11);
  EXPECT_NEAR(curve[0].D, 0.28464882313411616, 1e-11);
  EXPECT_NEAR(curve[4].alpha, 15.724347612957379, 1e-10);
  EXPECT_NEAR(curve[4].D, 0.21913616847599338, 1e-11);
  const absl::StatusOr<TailFit> fit = FitTail(x, *backend_);
  ASSERT_TRUE(fit.ok());
  bool found = false;
  for (const ScanCandidate& c : curve) {
    if (c.xmin == fit->xmin) {
      found = true;
      EXPECT_EQ(c.alpha, fit->alpha);
      EXPECT_EQ(c.D, fit->D);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace htsr
