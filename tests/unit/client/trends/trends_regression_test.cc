// OLS, RMSE, R^2, Kendall tau and residual outliers against closed forms and hand counts.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "trends/regression.h"

namespace htsr::trends {
namespace {

TEST(FitLinearTest, ExactLineHasNoError) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  std::vector<double> y;
  for (double v : x) y.push_back(3.5 - 2 * v);
  auto f = FitLinear(x, y);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NEAR(f->slope, -2, 1e-12);
  EXPECT_NEAR(f->intercept, 3.5, 1e-12);
  EXPECT_NEAR(f->rmse, 0, 1e-12);
  EXPECT_NEAR(f->r2, 1, 1e-12);
}

// x = 0,1,2,3; y = 1,3,2,5: slope = Sxy/Sxx = 5.5/5 = 1.1, intercept = 2.75 - 1.1*1.5 = 1.1.
// Residuals: -0.1, 0.8, -1.3, 0.6; SSE = 0.01+0.64+1.69+0.36 = 2.7; SST = 8.75.
TEST(FitLinearTest, HandComputedExample) {
  auto f = FitLinear(std::vector<double>{0, 1, 2, 3}, std::vector<double>{1, 3, 2, 5});
  ASSERT_TRUE(f.ok());
  EXPECT_NEAR(f->slope, 1.1, 1e-12);
  EXPECT_NEAR(f->intercept, 1.1, 1e-12);
  EXPECT_NEAR(f->rmse, std::sqrt(2.7 / 4), 1e-12);
  EXPECT_NEAR(f->r2, 1 - 2.7 / 8.75, 1e-12);
  ASSERT_EQ(f->residuals.size(), 4u);
  EXPECT_NEAR(f->residuals[2], -1.3, 1e-12);
  // Studentized: r / (s sqrt(1 - h)), s = sqrt(2.7/2), h = 1/4 + (x - 1.5)^2 / 5.
  const double s = std::sqrt(2.7 / 2);
  EXPECT_NEAR(f->studentized[0], -0.1 / (s * std::sqrt(1 - (0.25 + 2.25 / 5))), 1e-12);
}

TEST(FitLinearTest, RefusesWhatCannotBeFitted) {
  EXPECT_FALSE(FitLinear(std::vector<double>{1, 2}, std::vector<double>{1, 2}).ok());
  EXPECT_FALSE(FitLinear(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3}).ok());
  EXPECT_FALSE(FitLinear(std::vector<double>{1, NAN, 3}, std::vector<double>{1, 2, 3}).ok());
  EXPECT_FALSE(FitLinear(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2}).ok());
  auto flat = FitLinear(std::vector<double>{1, 2, 3}, std::vector<double>{4, 4, 4});
  ASSERT_TRUE(flat.ok());
  EXPECT_TRUE(std::isnan(flat->r2));
}

TEST(KendallTauTest, OrderingsAndTies) {
  EXPECT_DOUBLE_EQ(KendallTau(std::vector<double>{1, 2, 3, 4}, std::vector<double>{10, 20, 30, 40}),
                   1.0);
  EXPECT_DOUBLE_EQ(KendallTau(std::vector<double>{1, 2, 3, 4}, std::vector<double>{4, 3, 2, 1}),
                   -1.0);
  // Pairs of {1,2,3,4} vs {1,3,2,4}: 5 concordant, 1 discordant -> 4/6.
  EXPECT_NEAR(KendallTau(std::vector<double>{1, 2, 3, 4}, std::vector<double>{1, 3, 2, 4}), 4.0 / 6,
              1e-15);
  // tau-b with a tie in y: x = 1,2,3; y = 1,1,2 -> C = 2, D = 0, ties_y = 1:
  // 2 / sqrt(3 * 2).
  EXPECT_NEAR(KendallTau(std::vector<double>{1, 2, 3}, std::vector<double>{1, 1, 2}),
              2 / std::sqrt(6.0), 1e-15);
  EXPECT_TRUE(std::isnan(KendallTau(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
}

TEST(ResidualOutliersTest, FlagsTheModelOffTheLine) {
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i);
    y.push_back(2 * i + ((i % 2) ? 0.1 : -0.1));
  }
  y[6] += 5;  // one model far off the trend
  auto f = FitLinear(x, y);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ResidualOutliers(*f, 2.0), std::vector<size_t>{6});
}

}  // namespace
}  // namespace htsr::trends
