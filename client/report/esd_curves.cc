#include "report/esd_curves.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace htsr::report {

DensityHistogram LogHistogram(const std::vector<double>& evals, int bins, double floor) {
  DensityHistogram h;
  std::vector<double> v;
  size_t positive = 0;
  for (double e : evals) {
    if (!std::isfinite(e) || e <= 0) continue;
    ++positive;
    if (e >= floor) v.push_back(e);
  }
  if (v.empty() || bins < 1) return h;
  const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
  double lo = std::log10(*mn), hi = std::log10(*mx);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  for (int i = 0; i <= bins; ++i) h.edges.push_back(std::pow(10.0, lo + (hi - lo) * i / bins));
  std::vector<double> counts(bins, 0);
  for (double e : v) {
    int b = static_cast<int>((std::log10(e) - lo) / (hi - lo) * bins);
    counts[std::clamp(b, 0, bins - 1)] += 1;
  }
  const double total = static_cast<double>(positive);
  for (int i = 0; i < bins; ++i) {
    h.centers.push_back(std::sqrt(h.edges[i] * h.edges[i + 1]));
    h.density.push_back(counts[i] / (total * (h.edges[i + 1] - h.edges[i])));
  }
  return h;
}

double EsdFloor(double lambda_max, double xmin) {
  const double f = xmin > 0 ? xmin / 100 : lambda_max * 1e-4;
  return std::min(f, lambda_max);
}

std::vector<CurvePoint> PowerLawDensity(double xmin, double xmax, double alpha,
                                        double tail_fraction, int points) {
  std::vector<CurvePoint> c;
  if (!(alpha > 1) || !(xmin > 0) || !(xmax > xmin) || points < 2) return c;
  const double l0 = std::log10(xmin), l1 = std::log10(xmax);
  for (int i = 0; i < points; ++i) {
    const double x = std::pow(10.0, l0 + (l1 - l0) * i / (points - 1));
    c.push_back({x, tail_fraction * (alpha - 1) / xmin * std::pow(x / xmin, -alpha)});
  }
  return c;
}

std::vector<CurvePoint> MarchenkoPasturDensity(double sigma, double Q, double w_scale,
                                               double fraction, int points) {
  std::vector<CurvePoint> c;
  if (!(sigma > 0) || !(Q >= 1) || !(w_scale > 0) || points < 3) return c;
  const double s2 = sigma * sigma, r = 1 / std::sqrt(Q);
  const double a = s2 * (1 - r) * (1 - r), b = s2 * (1 + r) * (1 + r);
  const double k = w_scale * w_scale;
  // Interior points only: the density is 0 at both edges, and infinite at a = 0 (Q = 1).
  for (int i = 1; i < points - 1; ++i) {
    const double l = a + (b - a) * i / (points - 1);
    const double rho =
        Q * std::sqrt(std::max(0.0, (b - l) * (l - a))) / (2 * std::numbers::pi * s2 * l);
    c.push_back({l / k, fraction * k * rho});
  }
  return c;
}

}  // namespace htsr::report
