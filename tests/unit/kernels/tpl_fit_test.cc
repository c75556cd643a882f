// Truncated power law (docs/spec.md §3a): the special functions against mpmath, the
// normalisation, the maximum-likelihood fit on samples of a known TPL, and the driver.
#include "htsr/tpl_fit.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "htsr/tpl_math.h"

namespace htsr {
namespace {

// mpmath.gammainc(a, z) (upper, unregularised) at 30 digits.
TEST(TplMathTest, UpperIncompleteGammaMatchesMpmath) {
  struct Case {
    double a, z;
    long double want;
  };
  const Case cases[] = {
      {-1.5, 0.01, 648.9300494125562321611L},       {-1.5, 2.0, 0.01183299410334599709071L},
      {-0.999999, 0.5, 0.6532875668371605234012L},  {-3.0, 0.001, 332833831.9726461588013L},
      {-7.25, 3.0, 0.000001639100889256471042295L}, {0.3, 0.2, 1.024592262166235434822L},
      {-2.0, 40.0, 6.184558621660772695705e-23L},   {-0.5, 1e-06, 1996.457092297855679931L},
  };
  for (const Case& c : cases) {
    const long double got = tpl::UpperIncompleteGamma<long double>(c.a, c.z);
    EXPECT_LE(std::fabs(got - c.want) / c.want, 1e-15L) << "a=" << c.a << " z=" << c.z;
  }
}

// E_p around integer orders (where Gamma(1 - p) has its poles) is continuous.
TEST(TplMathTest, ExpIntContinuousAcrossIntegerOrders) {
  for (double p : {1.0, 2.0, 3.0, 5.0}) {
    for (double z : {1e-6, 0.01, 0.5, 0.999, 1.001, 4.0}) {
      const long double at = tpl::ScaledExpInt<long double>(p, z);
      const long double below = tpl::ScaledExpInt<long double>(p - 1e-9, z);
      const long double above = tpl::ScaledExpInt<long double>(p + 1e-9, z);
      EXPECT_LE(std::fabs(below - at) / at, 1e-7L) << p << " " << z;
      EXPECT_LE(std::fabs(above - at) / at, 1e-7L) << p << " " << z;
    }
  }
}

double LogPdf(double xmin, double x, double alpha, double lambda) {
  const std::vector<double> one = {xmin}, two = {xmin, x};
  return TplLogLikelihood(two, alpha, lambda) - TplLogLikelihood(one, alpha, lambda);
}

// int_xmin^inf p(x) dx = 1, by Simpson's rule in t = ln x (p(x) x dt).
TEST(TplFitTest, DensityIntegratesToOne) {
  for (auto [alpha, lambda] : {std::pair{2.5, 0.3}, {1.2, 2.0}, {0.8, 0.05}, {4.0, 1e-3}}) {
    const double xmin = 1.5;
    const double t0 = std::log(xmin), t1 = std::log(xmin + 80.0 / lambda + 1e6);
    const int n = 200000;
    const double h = (t1 - t0) / n;
    double sum = 0;
    for (int i = 0; i <= n; ++i) {
      const double t = t0 + i * h, x = std::exp(t);
      const double f = x * std::exp(LogPdf(xmin, x, alpha, lambda));
      sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
    }
    // The tail beyond t1 of a slowly cut-off law (alpha 4, Lambda 1e-3) is below 1e-9.
    EXPECT_NEAR(sum * h / 3, 1.0, 1e-6) << alpha << " " << lambda;
  }
}

// Draws from the TPL by rejection (exponential proposal, accept with (x/xmin)^-alpha).
std::vector<double> SampleTpl(double alpha, double lambda, double xmin, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x;
  while (static_cast<int>(x.size()) < n) {
    const double c = xmin - std::log1p(-u(rng)) / lambda;
    if (u(rng) < std::pow(c / xmin, -alpha)) x.push_back(c);
  }
  std::sort(x.begin(), x.end());
  return x;
}

TEST(TplFitTest, MaximumLikelihoodRecoversParameters) {
  struct Case {
    double alpha, lambda;
  };
  for (const Case& c : {Case{2.5, 0.3}, Case{1.5, 1.0}, Case{3.5, 0.05}}) {
    const double xmin = 1.0;
    std::vector<double> x = SampleTpl(c.alpha, c.lambda, xmin, 20000, 42);
    x.insert(x.begin(), xmin);  // the tail starts at xmin
    const TplTailFit f = FitTplTail(x);
    SCOPED_TRACE(testing::Message() << "alpha " << c.alpha << " Lambda " << c.lambda);
    // Standard errors at n = 2e4: about 0.02-0.04 in alpha, 2-10% in Lambda (a weak cut-off
    // at Lambda = 0.05 is the hardest to pin down).
    EXPECT_NEAR(f.alpha, c.alpha, 0.12);
    EXPECT_NEAR(f.Lambda, c.lambda, 0.25 * c.lambda);
    // A maximum: every neighbour is lower.
    for (double da : {-1e-4, 1e-4}) {
      EXPECT_LT(TplLogLikelihood(x, f.alpha + da, f.Lambda), f.loglik);
    }
    for (double dl : {-1e-4, 1e-4}) {
      EXPECT_LT(TplLogLikelihood(x, f.alpha, f.Lambda * (1 + dl)), f.loglik);
    }
    EXPECT_NEAR(TplLogLikelihood(x, f.alpha, f.Lambda), f.loglik, 1e-9 * std::fabs(f.loglik));
  }
}

// A pure power law: the maximum lies on Lambda = 0 (or next to it), alpha is the power law's.
TEST(TplFitTest, PowerLawSampleGivesSmallLambda) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> x(5000);
  for (double& v : x) v = std::pow(1.0 - u(rng), -1.0 / 1.5);  // alpha = 2.5, xmin = 1
  x.push_back(1.0);
  std::sort(x.begin(), x.end());
  const TplTailFit f = FitTplTail(x);
  EXPECT_NEAR(f.alpha, 2.5, 0.1);
  EXPECT_LT(f.Lambda, 1e-3);
}

TEST(TplFitTest, DriverScansXminAndComparesWithPowerLaw) {
  // A TPL tail above a bulk of small values: the fit should find an xmin near the tail's
  // start, a positive Lambda and prefer the TPL (R < 0).
  std::vector<double> evals = SampleTpl(2.0, 0.5, 1.0, 3000, 3);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0.05, 1.0);
  for (int i = 0; i < 1000; ++i) evals.push_back(u(rng));
  for (int i = 0; i < 50; ++i) evals.push_back(0.0);
  std::sort(evals.begin(), evals.end());
  AnalysisOptions opt;
  opt.fit = FitType::kTruncatedPowerLaw;
  const TplFit f = FitTruncatedPowerLaw(evals, opt);
  ASSERT_TRUE(f.ok) << f.failure;
  EXPECT_NEAR(f.alpha, 2.0, 0.3);
  EXPECT_NEAR(f.Lambda, 0.5, 0.15);
  EXPECT_GT(f.xmin, 0.5);
  EXPECT_LT(f.xmin, 1.5);
  EXPECT_GT(f.D, 0);
  EXPECT_LT(f.D, 0.05);
  EXPECT_EQ(f.num_pl_spikes, evals.end() - std::lower_bound(evals.begin(), evals.end(), f.xmin));
  EXPECT_LT(f.R, 0);
  EXPECT_LT(f.p, 0.05);
  EXPECT_GT(f.num_candidates, 3000);

  opt.fit = FitType::kExtendedTpl;
  const TplFit e = FitTruncatedPowerLaw(evals, opt);
  ASSERT_TRUE(e.ok) << e.failure;
  EXPECT_LT(e.num_candidates, f.num_candidates);
}

TEST(TplFitTest, TooFewDistinctValuesFail) {
  AnalysisOptions opt;
  opt.fit = FitType::kTruncatedPowerLaw;
  const std::vector<double> one = {0.0, 0.0, 2.0};
  EXPECT_FALSE(FitTruncatedPowerLaw(one, opt).ok);
  const std::vector<double> same = {3.0, 3.0, 3.0};
  EXPECT_FALSE(FitTruncatedPowerLaw(same, opt).ok);
  const std::vector<double> two = {1.0, 3.0};
  EXPECT_TRUE(FitTruncatedPowerLaw(two, opt).ok);
}

}  // namespace
}  // namespace htsr
