// Truncated power-law fits: weightwatcher 0.7.7's fit='TPL' / 'E_TPL' (pl_package='powerlaw',
// i.e. powerlaw 1.5's Fit(data, xmin_distribution='truncated_power_law')), docs/spec.md §3a.
//
// What the reference does, and what is reproduced here:
//  * candidates: every unique eigenvalue above 1e-5 except the largest (E_TPL: only those in
//    its window around the peak of a 100-bin log10 histogram, see ExtendedTplWindow);
//  * per candidate, the TPL maximum-likelihood fit of the tail x >= xmin — the reference runs
//    scipy's Nelder-Mead (xtol = ftol = 1e-4) on -log L with mpmath's incomplete gamma; here
//    the exact maximum (FitTplTail), to ~1e-9 relative;
//  * its KS distance D over the tail's unique values, with the reference's float64 formula
//    for the model CDF (including its cancellation and the "CDF at xmin rounds to 1" case);
//  * the first candidate with the smallest D; reported: alpha, Lambda, xmin, D,
//    num_pl_spikes (eigenvalues >= xmin); sigma and xmax are empty (NaN) as in the reference.
// The per-candidate math is shared with the CUDA scan (htsr/tpl_profile.h, htsr/tpl_ks.h);
// the scan over candidates is a Backend method, the host one is ScanTruncatedPowerLawHost.
#include "htsr/tpl_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "htsr/ks_math.h"
#include "htsr/powerlaw_fit.h"
#include "htsr/tpl_ks.h"
#include "htsr/tpl_profile.h"

namespace htsr {
namespace {

using Real = long double;
using TailStats = tpl::TailStats<Real>;
using ProfileFit = tpl::ProfileFit<Real>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Tail suffix sums in long double: sum ln x and sum x over j >= i.
struct Suffix {
  std::vector<Real> log_sum, sum;
  explicit Suffix(std::span<const double> x) : log_sum(x.size() + 1, 0), sum(x.size() + 1, 0) {
    for (size_t j = x.size(); j-- > 0;) {
      log_sum[j] = log_sum[j + 1] + std::log(static_cast<Real>(x[j]));
      sum[j] = sum[j + 1] + static_cast<Real>(x[j]);
    }
  }
  TailStats Stats(std::span<const double> x, size_t i) const {
    TailStats s;
    s.xmin = x[i];
    s.log_xmin = std::log(s.xmin);
    s.k = static_cast<Real>(x.size() - i);
    s.t_ln = log_sum[i] - s.k * s.log_xmin;
    s.t_x = sum[i] - s.k * s.xmin;
    return s;
  }
};

// The reference's KS distance of candidate `i` (first index of its value): the maximum of
// tpl::KsTerm over the unique values x_u >= xmin. Stops early (returns a value >= `stop_at`)
// once the running maximum reaches `stop_at`: such a candidate cannot be the first minimum.
double KsDistance(std::span<const double> x, std::span<const double> logs, size_t i, double alpha,
                  double lambda, double stop_at) {
  const size_t n = x.size();
  const tpl::KsCandidate c = tpl::MakeKsCandidate(alpha, lambda, x[i], logs[i],
                                                  static_cast<int64_t>(i), static_cast<int64_t>(n));
  if (c.saturated) return 1.0;
  double d = 0;
  for (size_t j = i; j < n;) {
    const double diff = tpl::KsTerm(c, x[j], logs[j], static_cast<int64_t>(j));
    if (std::isnan(diff)) return kNaN;
    d = std::max(d, diff);
    if (d >= stop_at) return d;
    const double v = x[j];
    while (j < n && x[j] == v) ++j;
  }
  return d;
}

// weightwatcher's E_TPL xmin window (fix_fingers='xmin_peak' with the powerlaw package):
// the left edge of the fullest of 100 numpy histogram bins of log10(x), xmin2 = 10^edge,
// then candidates x in [min(lo, hi), max(lo, hi)] with lo = log10(0.95 xmin2) (sic: a log10
// next to a value) and hi = 1.5 xmin2.
void ExtendedTplWindow(std::span<const double> x, double* lo, double* hi) {
  const size_t n = x.size();
  std::vector<double> lg(n);
  for (size_t j = 0; j < n; ++j) lg[j] = std::log10(x[j]);
  double first = *std::min_element(lg.begin(), lg.end());
  double last = *std::max_element(lg.begin(), lg.end());
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  constexpr int kBins = 100;
  std::vector<double> edges(kBins + 1);
  const double step = (last - first) / kBins;  // numpy.linspace
  for (int b = 0; b < kBins; ++b) edges[b] = static_cast<double>(b) * step + first;
  edges[kBins] = last;
  std::vector<int64_t> counts(kBins, 0);
  const double scale = kBins / (last - first);
  for (double v : lg) {  // numpy.histogram, equal bins
    int64_t b = static_cast<int64_t>((v - first) * scale);
    if (b == kBins) b = kBins - 1;
    if (v < edges[b]) --b;
    if (b != kBins - 1 && v >= edges[b + 1]) ++b;
    ++counts[b];
  }
  const int ih = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  const double xmin2 = std::pow(10.0, edges[ih]);
  const double a = std::log10(0.95 * xmin2), b = 1.5 * xmin2;
  *lo = std::min(a, b);
  *hi = std::max(a, b);
}

}  // namespace

TplTailFit FitTplTail(std::span<const double> tail) {
  const Suffix suffix(tail);
  const TailStats s = suffix.Stats(tail, 0);
  const ProfileFit f = tpl::FitProfile<Real>(s, 0, 0);
  TplTailFit out;
  out.alpha = static_cast<double>(f.alpha);
  out.Lambda = static_cast<double>(f.z / s.xmin);
  out.loglik = static_cast<double>(s.k * (f.mean_loglik - s.log_xmin));
  return out;
}

double TplLogLikelihood(std::span<const double> tail, double alpha, double Lambda) {
  const Suffix suffix(tail);
  const TailStats s = suffix.Stats(tail, 0);
  const Real z = static_cast<Real>(Lambda) * s.xmin;
  return static_cast<double>(s.k * (tpl::MeanLogLik<Real>(alpha, z, s) - s.log_xmin));
}

std::vector<int64_t> TplCandidates(std::span<const double> x, FitType fit) {
  const size_t n = x.size();
  // Candidates: the first index of every unique value but the largest (E_TPL: in its window,
  // and again without the window's largest value).
  std::vector<int64_t> candidates;
  for (size_t j = 0; j < n;
       j = static_cast<size_t>(std::upper_bound(x.begin() + j, x.end(), x[j]) - x.begin())) {
    candidates.push_back(static_cast<int64_t>(j));
  }
  if (!candidates.empty()) candidates.pop_back();
  if (fit == FitType::kExtendedTpl && n > 0) {
    double lo = 0, hi = 0;
    ExtendedTplWindow(x, &lo, &hi);
    std::vector<int64_t> window;
    for (size_t j = 0; j < n;
         j = static_cast<size_t>(std::upper_bound(x.begin() + j, x.end(), x[j]) - x.begin())) {
      if (x[j] >= lo && x[j] <= hi) window.push_back(static_cast<int64_t>(j));
    }
    if (!window.empty()) window.pop_back();
    candidates = std::move(window);
  }
  return candidates;
}

absl::Status CheckTplScanInput(std::span<const double> sorted,
                               std::span<const int64_t> candidates) {
  const size_t n = sorted.size();
  for (size_t j = 0; j < n; ++j) {
    if (!std::isfinite(sorted[j]) || !(sorted[j] > ks::kFitThreshold) ||
        (j > 0 && sorted[j] < sorted[j - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("TPL scan input must be finite, ascending and > ", ks::kFitThreshold,
                       "; value ", j, " is ", sorted[j]));
    }
  }
  for (size_t c = 0; c < candidates.size(); ++c) {
    const int64_t i = candidates[c];
    const bool ok = i >= 0 && static_cast<size_t>(i) < n && sorted[i] < sorted[n - 1] &&
                    (i == 0 || sorted[i - 1] < sorted[i]) && (c == 0 || candidates[c - 1] < i);
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("TPL scan candidate ", c, " (index ", i, " of ", n,
                       ") is not an increasing first index of a value below the largest"));
    }
  }
  return absl::OkStatus();
}

TplScan ScanTruncatedPowerLawHost(std::span<const double> x, std::span<const int64_t> candidates) {
  const size_t n = x.size();
  TplScan out;
  if (candidates.empty()) return out;
  const Suffix suffix(x);
  std::vector<double> logs(n);
  for (size_t j = 0; j < n; ++j) logs[j] = std::log(x[j]);
  double best_d = std::numeric_limits<double>::infinity();
  Real alpha_hint = 0, z_hint = 0;
  for (const int64_t c : candidates) {
    const size_t i = static_cast<size_t>(c);
    const TailStats s = suffix.Stats(x, i);
    const ProfileFit f = tpl::FitProfile(s, alpha_hint, z_hint);
    alpha_hint = f.alpha;
    if (f.z > 0) z_hint = f.z;
    const double d = KsDistance(x, logs, i, static_cast<double>(f.alpha),
                                static_cast<double>(f.z / s.xmin), best_d);
    if (std::isnan(d) || !(d < best_d)) continue;
    best_d = d;
    out.best_index = c;
    out.alpha = f.alpha;
    out.z = f.z;
    out.D = d;
  }
  return out;
}

namespace {

using ScanFn =
    absl::FunctionRef<absl::StatusOr<TplScan>(std::span<const double>, std::span<const int64_t>)>;

TplFit FitTruncatedPowerLawWith(std::span<const double> all_evals, const AnalysisOptions& options,
                                ScanFn scan_fn) {
  TplFit out;
  const absl::StatusOr<FitRange> range = SelectFitRange(all_evals, options.xmax_drop);
  if (!range.ok()) {
    out.failure = std::string(range.status().message());
    return out;
  }
  const std::span<const double> evals = range->kept, x = range->fitted;
  const size_t n = x.size();

  const std::vector<int64_t> candidates = TplCandidates(x, options.fit);
  out.num_candidates = static_cast<int64_t>(candidates.size());
  if (candidates.empty()) {
    out.failure = n < 2 ? absl::StrCat("truncated power-law fit needs >= 2 distinct eigenvalues > ",
                                       ks::kFitThreshold, ", have ", n)
                        : "truncated power-law fit: no xmin candidate in the E_TPL window";
    return out;
  }

  const absl::StatusOr<TplScan> scan = scan_fn(x, candidates);
  if (!scan.ok()) {
    out.failure = absl::StrCat("truncated power-law scan: ", scan.status().message());
    return out;
  }
  if (scan->best_index < 0) {
    out.failure = "truncated power-law fit: no candidate with a finite KS distance";
    return out;
  }
  const size_t best = static_cast<size_t>(scan->best_index);
  const Suffix suffix(x);
  const TailStats s = suffix.Stats(x, best);
  const Real alpha = scan->alpha, z = scan->z;
  out.ok = true;
  out.alpha = static_cast<double>(alpha);
  out.Lambda = static_cast<double>(z / s.xmin);
  out.xmin = x[best];
  out.D = scan->D;
  out.num_pl_spikes = evals.end() - std::lower_bound(evals.begin(), evals.end(), out.xmin);
  out.loglik = static_cast<double>(s.k * (tpl::MeanLogLik(alpha, z, s) - s.log_xmin));

  // powerlaw's distribution_compare('power_law', 'truncated_power_law', nested) with
  // weightwatcher's normalized_ratio=True, at this xmin: the power law's continuous MLE
  // against the fit above, per-point log-likelihood differences d_j.
  const Real alpha_pl = 1 + s.k / s.t_ln;
  const Real log_e = tpl::LogScaledE(alpha, z);
  const Real lambda = z / s.xmin;
  Real sum = 0;
  std::vector<Real> diffs;
  diffs.reserve(n - best);
  for (size_t j = best; j < n; ++j) {
    const Real t = std::log(static_cast<Real>(x[j])) - s.log_xmin;
    const Real dj = std::log(alpha_pl - 1) - alpha_pl * t + alpha * t +
                    lambda * (static_cast<Real>(x[j]) - s.xmin) + log_e;
    diffs.push_back(dj);
    sum += dj;
  }
  const Real mean = sum / s.k;
  Real var = 0;
  for (Real dj : diffs) var += (dj - mean) * (dj - mean);
  var /= s.k;
  const double R = static_cast<double>(sum);
  out.p = 1.0 - std::erf(std::sqrt(std::fabs(R)));  // 1 - chi2(1).cdf(|2R|), in float64
  out.R = R / std::sqrt(static_cast<double>(s.k * var));
  return out;
}

}  // namespace

TplFit FitTruncatedPowerLaw(std::span<const double> evals, const AnalysisOptions& options,
                            Backend& backend) {
  return FitTruncatedPowerLawWith(
      evals, options, [&](std::span<const double> x, std::span<const int64_t> candidates) {
        return backend.ScanTruncatedPowerLaw(x, candidates);
      });
}

TplFit FitTruncatedPowerLaw(std::span<const double> evals, const AnalysisOptions& options) {
  return FitTruncatedPowerLawWith(
      evals, options,
      [](std::span<const double> x, std::span<const int64_t> candidates)
          -> absl::StatusOr<TplScan> { return ScanTruncatedPowerLawHost(x, candidates); });
}

}  // namespace htsr
