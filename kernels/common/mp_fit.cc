// Marchenko-Pastur bulk fit, following weightwatcher 0.7.7's mp_fit:
//   rescale to mean 1; sigma = scipy.optimize.brute(resid_mp) over the grid
//   [0.05 s, 2 s) step 0.01 s (s = calc_sigma), polished by scipy's fmin (Nelder-Mead);
//   resid_mp compares the MP (or, for Q == 1, quarter-circle) density with a linear-kernel
//   KDE (bandwidth 0.1) of the spectrum on 1000 points, dropping points of density < 0.01.
// The KDE does not depend on sigma, so it is evaluated once per fit (the reference recomputes
// it for every sigma; same numbers). Nelder-Mead is reproduced step by step (1-D simplex,
// scipy's coefficients, xatol = fatol = 1e-4, 200 evaluations) so that sigma_mp agrees
// with the reference, not just approximately.
#include "htsr/mp_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "htsr/metrics.h"

namespace htsr {
namespace {

constexpr double kBandwidth = 0.1;
constexpr double kDensityFloor = 0.01;
constexpr int kGridPoints = 1000;

struct Kde {
  std::vector<double> x, y;  // points with density > floor
  double peak_x = 0;         // first x of maximal density
  bool any_below = false;
};

Kde EstimateDensity(std::vector<double> data) {
  std::sort(data.begin(), data.end());
  const double n = static_cast<double>(data.size());
  const double stop = data.back() + 0.5;
  const double step = stop / (kGridPoints - 1);
  Kde kde;
  double best = -1;
  for (int i = 0; i < kGridPoints; ++i) {
    const double x = i == kGridPoints - 1 ? stop : i * step;
    // Linear kernel: (1/(n h)) sum max(0, 1 - |x - x_i| / h); only |x - x_i| < h counts.
    const auto lo = std::upper_bound(data.begin(), data.end(), x - kBandwidth);
    const auto hi = std::lower_bound(data.begin(), data.end(), x + kBandwidth);
    double s = 0;
    for (auto it = lo; it != hi; ++it) s += std::max(0.0, 1.0 - std::fabs(x - *it) / kBandwidth);
    const double y = s / (n * kBandwidth);
    if (y > kDensityFloor) {
      kde.x.push_back(x);
      kde.y.push_back(y);
      if (y > best) {
        best = y;
        kde.peak_x = x;
      }
    }
  }
  return kde;
}

// resid_mp(..., allresid=False): sum of squared residuals.
double Residual(double sigma, const Kde& kde, double Q) {
  double sum = 0;
  if (Q == 1.0) {
    for (size_t i = 0; i < kde.x.size(); ++i) {
      const double x = kde.x[i];
      double v = (1.0 / (std::numbers::pi * sigma * sigma)) * std::sqrt(4.0 - x * x);
      if (std::isnan(v)) v = 0;
      const double r = v - kde.y[i];
      sum += r * r;
    }
    return sum;
  }
  const double y = 1.0 / Q;
  const double b = std::pow(sigma * (1.0 + std::sqrt(1.0 / Q)), 2);
  const double a = std::pow(sigma * (1.0 - std::sqrt(1.0 / Q)), 2);
  const double max_x = kde.x.back();
  if (b < kde.peak_x || b > max_x || a > kde.peak_x) {
    return 1000.0 * 1000.0 * static_cast<double>(kde.x.size());
  }
  for (size_t i = 0; i < kde.x.size(); ++i) {
    const double x = kde.x[i];
    double v =
        (1.0 / (2.0 * std::numbers::pi * sigma * sigma * x * y)) * std::sqrt((b - x) * (x - a));
    if (std::isnan(v)) v = 0;
    if (std::isinf(v))
      v = v > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
    const double r = v - kde.y[i];
    sum += r * r;
  }
  return sum;
}

// scipy.optimize.fmin (Nelder-Mead) in one dimension, as scipy 1.10 runs it.
double NelderMead1d(double x0, const Kde& kde, double Q) {
  constexpr double kRho = 1, kChi = 2, kPsi = 0.5, kSigma = 0.5;
  constexpr int kMaxCalls = 200, kMaxIter = 200;
  int calls = 0;
  auto f = [&](double x, bool* ok) {
    if (calls >= kMaxCalls) {
      *ok = false;
      return 0.0;
    }
    ++calls;
    return Residual(x, kde, Q);
  };
  double sim[2] = {x0, x0 != 0 ? 1.05 * x0 : 0.00025};
  double fs[2];
  bool ok = true;
  fs[0] = f(sim[0], &ok);
  fs[1] = f(sim[1], &ok);
  auto order = [&] {
    if (fs[1] < fs[0]) {
      std::swap(fs[0], fs[1]);
      std::swap(sim[0], sim[1]);
    }
  };
  order();
  int iterations = 1;
  while (calls < kMaxCalls && iterations < kMaxIter) {
    if (std::fabs(sim[1] - sim[0]) <= 1e-4 && std::fabs(fs[0] - fs[1]) <= 1e-4) break;
    ok = true;
    const double xbar = sim[0];
    const double xr = (1 + kRho) * xbar - kRho * sim[1];
    const double fxr = f(xr, &ok);
    if (ok) {
      if (fxr < fs[0]) {
        const double xe = (1 + kRho * kChi) * xbar - kRho * kChi * sim[1];
        const double fxe = f(xe, &ok);
        if (ok) {
          if (fxe < fxr) {
            sim[1] = xe;
            fs[1] = fxe;
          } else {
            sim[1] = xr;
            fs[1] = fxr;
          }
        }
      } else {  // fxr >= fsim[0] == fsim[-2] in 1-D: contraction or shrink
        bool shrink = false;
        if (fxr < fs[1]) {
          const double xc = (1 + kPsi * kRho) * xbar - kPsi * kRho * sim[1];
          const double fxc = f(xc, &ok);
          if (ok) {
            if (fxc <= fxr) {
              sim[1] = xc;
              fs[1] = fxc;
            } else {
              shrink = true;
            }
          }
        } else {
          const double xcc = (1 - kPsi) * xbar + kPsi * sim[1];
          const double fxcc = f(xcc, &ok);
          if (ok) {
            if (fxcc < fs[1]) {
              sim[1] = xcc;
              fs[1] = fxcc;
            } else {
              shrink = true;
            }
          }
        }
        if (ok && shrink) {
          sim[1] = sim[0] + kSigma * (sim[1] - sim[0]);
          fs[1] = f(sim[1], &ok);
        }
      }
      if (ok) ++iterations;
    }
    order();
  }
  return sim[0];
}

}  // namespace

MpFitResult FitMarchenkoPastur(std::span<const double> evals, int64_t N, int64_t M) {
  MpFitResult out;
  if (evals.empty() || N <= 0 || M <= 0) return out;
  const double Q = static_cast<double>(N) / static_cast<double>(M);
  const double total = AccurateSum(evals);
  if (!(total > 0)) return out;
  const double w_scale = std::sqrt(static_cast<double>(evals.size())) / std::sqrt(total);
  std::vector<double> rescaled(evals.begin(), evals.end());
  for (double& v : rescaled) v *= w_scale * w_scale;
  const double lambda_max = *std::max_element(rescaled.begin(), rescaled.end());

  // fit_density_with_range: grid from calc_sigma on the rescaled eigenvalues.
  const double s = std::sqrt(lambda_max / std::pow(1.0 + 1.0 / std::sqrt(Q), 2));
  std::vector<double> to_fit = rescaled;
  if (Q == 1.0) {
    for (double& v : to_fit) v = std::sqrt(v);
  }
  const Kde kde = EstimateDensity(to_fit);
  if (kde.x.empty() && Q != 1.0) return out;  // reference: max() of an empty array raises

  const double start = 0.05 * s, stop = 2.0 * s, step = 0.01 * s;
  const int64_t count = static_cast<int64_t>(std::ceil((stop - start) / step));
  double best_sigma = start, best_f = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < count; ++i) {
    const double sigma = static_cast<double>(i) * step + start;
    const double fv = Residual(sigma, kde, Q);
    if (fv < best_f) {
      best_f = fv;
      best_sigma = sigma;
    }
  }
  const double s1 = NelderMead1d(best_sigma, kde, Q);

  const double bulk_max = std::pow(s1 * (1 + 1 / std::sqrt(Q)), 2);
  const double bulk_min = std::pow(s1 * (1 - 1 / std::sqrt(Q)), 2);
  const double tw = 1 / std::sqrt(Q) * std::pow(bulk_max, 2.0 / 3.0) *
                    std::pow(static_cast<double>(M), -2.0 / 3.0);
  const double cut = bulk_max + std::sqrt(tw);
  int64_t spikes = 0;
  for (double v : rescaled) spikes += v > cut ? 1 : 0;
  out.num_spikes = spikes;
  out.sigma_mp = s1;
  out.mp_softrank = bulk_max / lambda_max;
  out.bulk_max = bulk_max / (w_scale * w_scale);
  out.bulk_min = bulk_min / (w_scale * w_scale);
  out.W_scale = w_scale;
  return out;
}

}  // namespace htsr
