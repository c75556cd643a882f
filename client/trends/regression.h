// The statistics of the paper's Table 1: ordinary least squares of a quality target
// (accuracy or error) on one model-level metric across a model series, with RMSE, R^2 and
// Kendall's tau, and the models that sit far from the fitted line.
#ifndef HTSR_CLIENT_TRENDS_REGRESSION_H_
#define HTSR_CLIENT_TRENDS_REGRESSION_H_

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace htsr::trends {

struct LinearFit {
  size_t n = 0;
  double slope = 0;
  double intercept = 0;
  // sqrt(SSE / n): the paper's RMSE (no degrees-of-freedom correction; the published
  // Table 1 values only come out this way).
  double rmse = 0;
  double r2 = 0;                    // 1 - SSE/SST; NaN when every y is equal
  std::vector<double> residuals;    // y - (intercept + slope x)
  std::vector<double> studentized;  // internally studentized residuals; NaN when n <= 2
};

// Fails when fewer than 3 points, a non-finite value, or all x equal (no line to fit).
absl::StatusOr<LinearFit> FitLinear(absl::Span<const double> x, absl::Span<const double> y);

// Kendall's tau-b (ties in x or y corrected, as scipy.stats.kendalltau); NaN when one side
// is constant or fewer than 2 points.
double KendallTau(absl::Span<const double> x, absl::Span<const double> y);

// Indices whose |studentized residual| exceeds `threshold` (2 is the usual rule): the
// models that disagree with the series trend.
std::vector<size_t> ResidualOutliers(const LinearFit& fit, double threshold);

}  // namespace htsr::trends

#endif  // HTSR_CLIENT_TRENDS_REGRESSION_H_
