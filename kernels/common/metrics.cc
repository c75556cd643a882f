// Per-layer metrics, following weightwatcher 0.7.7's combined_eigenvalues, apply_esd,
// apply_norm_metrics, matrix_rank, matrix_entropy and detX_constraint.
#include "htsr/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace htsr {
namespace {

constexpr double kEps64 = std::numeric_limits<double>::epsilon();
constexpr double kEntropyEpsilon = 1e-10;    // reference EPSILON
constexpr double kWeakRankTolerance = 1e-6;  // reference WEAK_RANK_LOSS_TOLERANCE

}  // namespace

double AccurateSum(std::span<const double> v) {
  double sum = 0, comp = 0;
  for (double x : v) {
    const double t = sum + x;
    comp += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  // inf/NaN terms (lambda^alpha of a zero eigenvalue with alpha = -1) poison the
  // compensation with inf - inf; the plain sum is then the right answer (inf or NaN).
  if (!std::isfinite(sum)) return sum;
  return sum + comp;
}

void ComputeSpectrumStats(std::span<const double> slices, int64_t count, int64_t m,
                          std::span<const double> pooled, int64_t N, LayerResult* r) {
  double sv_max = 0, sv_min = 0;
  int64_t rank_loss = 0;
  for (int64_t b = 0; b < count; ++b) {
    const std::span<const double> s = slices.subspan(b * m, m);
    const double top = std::sqrt(s.back());
    sv_max = std::max(sv_max, top);
    sv_min = std::max(sv_min, std::sqrt(s.front()));
    const double tol = top * static_cast<double>(N) * kEps64;
    int64_t rank = 0;
    for (double v : s) rank += std::sqrt(v) > tol ? 1 : 0;
    rank_loss += m - rank;
  }
  r->sv_max = sv_max;
  r->sv_min = sv_min;
  r->rank_loss = rank_loss;
  r->weak_rank_loss =
      std::lower_bound(pooled.begin(), pooled.end(), kWeakRankTolerance) - pooled.begin();
}

void ComputeNormMetrics(std::span<const double> pooled, int64_t N, LayerResult* r) {
  const double norm = AccurateSum(pooled);
  const double lambda_max = pooled.empty() ? 0.0 : pooled.back();
  r->norm = norm;
  r->log_norm = std::log10(norm);
  r->spectral_norm = lambda_max;
  r->log_spectral_norm = std::log10(lambda_max);
  r->alpha_weighted = r->alpha * r->log_spectral_norm;
  std::vector<double> powered(pooled.size());
  for (size_t i = 0; i < pooled.size(); ++i) powered[i] = std::pow(pooled[i], r->alpha);
  r->log_alpha_norm = std::log10(AccurateSum(powered));
  r->stable_rank = norm / lambda_max;

  // matrix_rank / matrix_entropy on sqrt(evals) with tol = max(sv) * N * eps.
  const double tol = std::sqrt(lambda_max) * static_cast<double>(N) * kEps64;
  int64_t rank = 0;
  for (double v : pooled) rank += std::sqrt(v) > tol ? 1 : 0;
  r->matrix_rank = rank;
  double h = 0, comp = 0;
  for (double v : pooled) {
    const double p = v / norm + kEntropyEpsilon;
    const double term = p * std::log(p);
    const double t = h + term;
    comp += std::fabs(h) >= std::fabs(term) ? (h - t) + term : (term - t) + h;
    h = t;
  }
  r->entropy = -(h + comp) / std::log(static_cast<double>(rank) + kEntropyEpsilon);
}

DetX ComputeDetX(std::span<const double> pooled) {
  DetX out;
  const int64_t n = static_cast<int64_t>(pooled.size());
  if (n == 0) return out;
  // rescale_eigenvalues: l = (Wscale * Wscale) * lambda, Wscale = sqrt(n) / sqrt(sum).
  const double w_scale = std::sqrt(static_cast<double>(n)) / std::sqrt(AccurateSum(pooled));
  const double w2 = w_scale * w_scale;
  auto rescaled = [&](int64_t i) { return w2 * pooled[i]; };
  int64_t idx = 0;
  // Reference returns (0, 0) for < 2 values or a flat spectrum.
  if (n < 2 || !(pooled.front() < pooled.back())) {
    out.num = 0;
  } else {
    out.num = n;
    double prod = 1.0;
    for (idx = n - 1; idx >= 1; --idx) {
      prod *= rescaled(idx);
      if (prod < 1.0) {
        out.num = n - idx;
        break;
      }
    }
    // Python's loop variable stays at 1 when the loop ends without a break.
    if (idx < 1) idx = 1;
  }
  out.val_rescaled = rescaled(idx);
  out.val = out.val_rescaled / w2;
  return out;
}

}  // namespace htsr
