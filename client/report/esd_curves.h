// The curves of an ESD plot: a log-binned density histogram of a layer's eigenvalues, the
// fitted power law drawn from xmin, and the Marchenko-Pastur bulk when --mp-fit ran. All
// densities are per unit eigenvalue and share one normalisation (the fraction of the
// eigenvalues each curve describes), so the curves overlay the histogram.
#ifndef HTSR_CLIENT_REPORT_ESD_CURVES_H_
#define HTSR_CLIENT_REPORT_ESD_CURVES_H_

#include <vector>

namespace htsr::report {

struct DensityHistogram {
  std::vector<double> edges;    // bins + 1 edges, log-spaced
  std::vector<double> centers;  // geometric centres
  std::vector<double> density;  // count / (total * width)
};

// Eigenvalues <= 0 (and non-finite ones) are left out: they have no place on a log axis.
// Those below `floor` are left out of the bins too (the bins start at the smallest value at
// or above it), but still count in the total, so that the density of the bins shown keeps
// the normalisation of the curves drawn over them.
DensityHistogram LogHistogram(const std::vector<double>& evals, int bins, double floor = 0);

// Where an ESD plot's bins start: xmin / 100 (the fitted tail and two decades below it) or,
// without a fit, lambda_max * 1e-4; never above the largest eigenvalue. Square layers have
// many eigenvalues near 1e-8 whose bars would otherwise dwarf the tail.
double EsdFloor(double lambda_max, double xmin);

// p(x) = tail_fraction * (alpha - 1) / xmin * (x / xmin)^(-alpha) on [xmin, xmax], at
// `points` log-spaced x values. Empty when the fit is not usable (alpha <= 1, xmin <= 0).
struct CurvePoint {
  double x, y;
};
std::vector<CurvePoint> PowerLawDensity(double xmin, double xmax, double alpha,
                                        double tail_fraction, int points);

// The Marchenko-Pastur density in the units of the unrescaled eigenvalues: with the
// rescaled lambda' = lambda * W_scale^2, Q = N/M >= 1 and bulk edges
// a, b = (sigma (1 -+ 1/sqrt(Q)))^2,  rho'(l) = Q sqrt((b - l)(l - a)) / (2 pi sigma^2 l),
// and rho(lambda) = W_scale^2 rho'(lambda W_scale^2), times `fraction`.
std::vector<CurvePoint> MarchenkoPasturDensity(double sigma, double Q, double w_scale,
                                               double fraction, int points);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_ESD_CURVES_H_
