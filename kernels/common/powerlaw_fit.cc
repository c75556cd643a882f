// The reference's default power-law fit driver (weightwatcher 0.7.7 fit_powerlaw + WWFit +
// fit_clipped_powerlaw), docs/spec.md §3.
#include "htsr/powerlaw_fit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "htsr/ks_math.h"

namespace htsr {
namespace {

// WWFit.fit_powerlaw_smallN followed by WWFit.__init__'s argmin over Ds, reproduced with
// its quirks: candidates with fewer than 8 tail points keep alpha = 0 and D = 1; when no
// candidate qualifies, candidate 0 is fitted on all points, but its sigma keeps the value
// computed from alpha = 0, i.e. -1/sqrt(n).
TailFit FitSmallN(std::span<const double> x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<double> logs(n);
  for (int64_t j = 0; j < n; ++j) logs[j] = std::log(x[j]);
  const int64_t candidates = n - 1;
  std::vector<double> alphas(candidates, 0.0), ds(candidates, 1.0), sigmas(candidates);
  auto tail_sum = [&](int64_t i) {
    double s = 0;
    for (int64_t j = i; j < n; ++j) s += logs[j];
    return s - static_cast<double>(n - i) * logs[i];
  };
  auto ks = [&](int64_t i, double alpha) {
    const int64_t k = n - i;
    double d = 0;
    for (int64_t m = 0; m < k; ++m) d = std::max(d, ks::KsTerm(logs[i + m], logs[i], alpha, m, k));
    return d;
  };
  bool any = false;
  for (int64_t i = 0; i < candidates; ++i) {
    const int64_t k = n - i;
    if (k < kSmallNMinTail) continue;
    const double s = tail_sum(i);
    if (s <= 1e-12) continue;
    const double alpha_bc = 1.0 + (static_cast<double>(k) - 1.0) / s;
    alphas[i] = alpha_bc;
    if (alpha_bc <= 1.0) continue;
    ds[i] = ks(i, alpha_bc);
    any = true;
  }
  for (int64_t i = 0; i < candidates; ++i) {
    sigmas[i] = (alphas[i] - 1.0) / std::sqrt(static_cast<double>(n - i));
  }
  if (!any) {
    const double s = tail_sum(0);
    if (s > 1e-12) {
      alphas[0] = 1.0 + (static_cast<double>(n) - 1.0) / s;
      ds[0] = ks(0, alphas[0]);
    }
  }
  const int64_t best = std::min_element(ds.begin(), ds.end()) - ds.begin();
  TailFit fit;
  fit.alpha = alphas[best];
  fit.D = ds[best];
  fit.sigma = sigmas[best];
  fit.xmin = x[best];
  fit.xmax = x[n - 1];
  return fit;
}

}  // namespace

std::vector<ScanCandidate> ScanCurve(std::span<const double> x, int64_t max_candidates) {
  std::vector<ScanCandidate> out;
  const int64_t n = static_cast<int64_t>(x.size());
  if (n < 2 || max_candidates < 1) return out;
  std::vector<double> logs(n), suffix(n);
  for (int64_t j = 0; j < n; ++j) logs[j] = std::log(x[j]);
  const bool small = n < kSmallNCutoff;
  // The suffix sums of the scan it mirrors: plain in FitSmallN, Neumaier-compensated in
  // the standard scan (kernels/cpu/ks_scan.cc), so that alpha agrees to the last bit.
  double sum = 0, comp = 0;
  for (int64_t j = n - 1; j >= 0; --j) {
    const double t = sum + logs[j];
    comp += std::fabs(sum) >= std::fabs(logs[j]) ? (sum - t) + logs[j] : (logs[j] - t) + sum;
    sum = t;
    suffix[j] = sum + comp;
  }
  const int64_t candidates = n - 1;
  std::vector<int64_t> picks;
  if (candidates <= max_candidates) {
    for (int64_t i = 0; i < candidates; ++i) picks.push_back(i);
  } else {
    for (int64_t c = 0; c < max_candidates; ++c) {
      const int64_t i = max_candidates == 1 ? 0 : c * (candidates - 1) / (max_candidates - 1);
      if (picks.empty() || picks.back() != i) picks.push_back(i);
    }
  }
  for (int64_t i : picks) {
    const int64_t k = n - i;
    ScanCandidate c;
    c.xmin = x[i];
    c.tail = k;
    if (small) {
      if (k < kSmallNMinTail) continue;
      double s = 0;
      for (int64_t j = i; j < n; ++j) s += logs[j];
      s -= static_cast<double>(k) * logs[i];
      if (s <= 1e-12) continue;
      c.alpha = 1.0 + (static_cast<double>(k) - 1.0) / s;
    } else {
      c.alpha = x[i] == x[n - 1] ? INFINITY : ks::Alpha(k, suffix[i], logs[i]);
    }
    if (!(c.alpha > 1.0)) {
      c.D = 1.0;
    } else {
      double d = 0;
      for (int64_t m = 0; m < k; ++m)
        d = std::max(d, ks::KsTerm(logs[i + m], logs[i], c.alpha, m, k));
      c.D = d;
    }
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<TailFit> FitTail(std::span<const double> data, Backend& backend) {
  const int64_t n = static_cast<int64_t>(data.size());
  if (n < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("power-law fit needs >= 2 eigenvalues > ", ks::kFitThreshold, ", have ", n));
  }
  if (n < kSmallNCutoff) return FitSmallN(data);
  auto scan = backend.ScanPowerLaw(data);
  if (!scan.ok()) return scan.status();
  if (scan->best_index < 0 || scan->best_index >= n - 1) {
    return absl::InternalError("KS scan returned no candidate");
  }
  TailFit fit;
  fit.alpha = scan->alpha;
  fit.D = scan->D;
  fit.sigma = ks::Sigma(scan->alpha, n - scan->best_index);
  fit.xmin = data[scan->best_index];
  fit.xmax = data[n - 1];
  return fit;
}

absl::StatusOr<FitRange> SelectFitRange(std::span<const double> evals, int64_t xmax_drop) {
  if (xmax_drop > 0) {
    // Reference: xmax = -k is refused when k > len(evals)/2, else the top k are dropped.
    if (2 * xmax_drop > static_cast<int64_t>(evals.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "xmax=-", xmax_drop, " drops more than half of the ", evals.size(), " eigenvalues"));
    }
    evals = evals.first(evals.size() - static_cast<size_t>(xmax_drop));
  }
  // Values above the threshold: a suffix of the ascending array.
  const auto first_nz = std::upper_bound(evals.begin(), evals.end(), ks::kFitThreshold);
  return FitRange{evals, std::span<const double>(first_nz, evals.end())};
}

PowerLawFit FitPowerLaw(std::span<const double> all_evals, const AnalysisOptions& options,
                        Backend& backend) {
  PowerLawFit out;
  const absl::StatusOr<FitRange> range = SelectFitRange(all_evals, options.xmax_drop);
  if (!range.ok()) {
    out.failure = std::string(range.status().message());
    return out;
  }
  const std::span<const double> evals = range->kept, nz = range->fitted;

  absl::StatusOr<TailFit> best = FitTail(nz, backend);
  if (!best.ok()) {
    out.failure = std::string(best.status().message());
    return out;
  }
  if (options.fix_fingers == FixFingers::kClipXmax) {
    // fit_clipped_powerlaw: refit without the top idx values, idx = 2 .. max_fingers-1.
    // The reference keeps a user max_fingers only when it is >= half the eigenvalues.
    int64_t max_fingers = options.max_fingers;
    if (max_fingers < 0 || 2 * max_fingers < static_cast<int64_t>(evals.size())) max_fingers = 10;
    const TailFit first = *best;
    out.raw_alpha = first.alpha;
    TailFit last = first;
    int64_t idx = 1;
    for (int64_t i = 2; i < max_fingers; ++i) {
      idx = i;
      const int64_t keep = static_cast<int64_t>(nz.size()) - i;
      absl::StatusOr<TailFit> fit = FitTail(nz.first(std::max<int64_t>(keep, 0)), backend);
      if (!fit.ok()) {
        // The reference reports a failed layer without raw_alpha (-1) or fingers.
        out.failure = absl::StrCat("fix_fingers: ", fit.status().message());
        out.raw_alpha = -1;
        return out;
      }
      last = *fit;
      if (fit->alpha + options.finger_thresh < first.alpha) {
        *best = *fit;
        out.num_fingers = i - 1;
        break;
      }
      if (fit->alpha <= 2.0) break;
    }
    // The reference then refits with 1..3 more values clipped, only to log a warning; those
    // fits can still raise (too few points), which fails the whole layer there.
    for (int64_t idy = idx + 1; idy < idx + 4 && idx >= 2; ++idy) {
      const int64_t keep = static_cast<int64_t>(nz.size()) - idy;
      absl::StatusOr<TailFit> check = FitTail(nz.first(std::max<int64_t>(keep, 0)), backend);
      if (!check.ok()) {
        out.failure = absl::StrCat("fix_fingers: ", check.status().message());
        out.raw_alpha = -1;
        out.num_fingers = 0;
        return out;
      }
      if (std::fabs(check->alpha - last.alpha) > options.finger_thresh) break;
    }
  }
  if (std::isnan(best->alpha)) {
    out.failure = "power-law fit gave alpha = NaN";
    return out;
  }
  out.ok = true;
  out.alpha = best->alpha;
  out.D = best->D;
  out.sigma = best->sigma;
  out.xmin = best->xmin;
  out.xmax = best->xmax;
  out.num_pl_spikes = evals.end() - std::lower_bound(evals.begin(), evals.end(), best->xmin);
  return out;
}

}  // namespace htsr
