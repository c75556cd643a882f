#include "trends/regression.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace htsr::trends {

absl::StatusOr<LinearFit> FitLinear(absl::Span<const double> x, absl::Span<const double> y) {
  if (x.size() != y.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("regression: ", x.size(), " metric values but ", y.size(), " targets"));
  }
  const size_t n = x.size();
  if (n < 3) {
    return absl::InvalidArgumentError(absl::StrCat("regression needs at least 3 models, got ", n));
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      return absl::InvalidArgumentError(absl::StrCat("regression: point ", i, " is not finite"));
    }
  }
  // Centred sums: accurate even when the metric has a large offset.
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (!(sxx > 0)) {
    return absl::InvalidArgumentError("regression: every model has the same metric value");
  }
  LinearFit f;
  f.n = n;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double sse = 0;
  f.residuals.resize(n);
  for (size_t i = 0; i < n; ++i) {
    f.residuals[i] = y[i] - (f.intercept + f.slope * x[i]);
    sse += f.residuals[i] * f.residuals[i];
  }
  f.rmse = std::sqrt(sse / static_cast<double>(n));
  f.r2 = syy > 0 ? 1 - sse / syy : std::numeric_limits<double>::quiet_NaN();
  // Studentized: residual over its own standard error s*sqrt(1 - h_ii), so that points far
  // out in x (high leverage, which pull the line towards themselves) are not under-flagged.
  const double s = std::sqrt(sse / static_cast<double>(n - 2));
  f.studentized.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double h = 1.0 / static_cast<double>(n) + (x[i] - mx) * (x[i] - mx) / sxx;
    const double se = s * std::sqrt(std::max(0.0, 1 - h));
    f.studentized[i] = se > 0 ? f.residuals[i] / se : 0.0;
  }
  return f;
}

double KendallTau(absl::Span<const double> x, absl::Span<const double> y) {
  const size_t n = std::min(x.size(), y.size());
  // O(n^2) pairs: series have tens of models, not thousands.
  double concordant = 0, discordant = 0, ties_x = 0, ties_y = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0 && dy == 0) continue;  // tied in both: counts in neither denominator term
      if (dx == 0) {
        ties_x += 1;
      } else if (dy == 0) {
        ties_y += 1;
      } else if ((dx > 0) == (dy > 0)) {
        concordant += 1;
      } else {
        discordant += 1;
      }
    }
  }
  const double denom =
      std::sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y));
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

std::vector<size_t> ResidualOutliers(const LinearFit& fit, double threshold) {
  std::vector<size_t> out;
  for (size_t i = 0; i < fit.studentized.size(); ++i) {
    if (std::fabs(fit.studentized[i]) > threshold) out.push_back(i);
  }
  return out;
}

}  // namespace htsr::trends
