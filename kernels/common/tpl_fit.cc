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
#include "htsr/tpl_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "htsr/ks_math.h"
#include "htsr/tpl_math.h"

namespace htsr {
namespace {

using Real = long double;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Sufficient statistics of a tail x_0 = xmin <= x_1 <= ... (k points):
// T_ln = sum ln(x / xmin), T_x = sum (x - xmin).
struct TailStats {
  Real xmin = 0, log_xmin = 0, k = 0, t_ln = 0, t_x = 0;
};

// ln(e^z E_alpha(z)); z = 0 is the power law's 1 / (alpha - 1).
Real LogScaledE(Real alpha, Real z) {
  if (z == 0) return -std::log(alpha - 1);
  return std::log(tpl::ScaledExpInt(alpha, z));
}

// Brent's root finder (zbrent) on a decreasing-or-increasing f with f(a), f(b) of opposite
// signs.
template <typename F>
Real FindRoot(F&& f, Real a, Real b, Real fa, Real fb, Real tol) {
  Real c = b, fc = fb, d = b - a, e = d;
  for (int iter = 0; iter < 200; ++iter) {
    if ((fb > 0) == (fc > 0)) {
      c = a;
      fc = fa;
      e = d = b - a;
    }
    if (std::fabs(fc) < std::fabs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const Real tol1 = 2 * std::numeric_limits<Real>::epsilon() * std::fabs(b) + tol / 2;
    const Real xm = (c - b) / 2;
    if (std::fabs(xm) <= tol1 || fb == 0) return b;
    if (std::fabs(e) >= tol1 && std::fabs(fa) > std::fabs(fb)) {
      const Real s = fb / fa;
      Real p, q;
      if (a == c) {
        p = 2 * xm * s;
        q = 1 - s;
      } else {
        const Real qq = fa / fc, r = fb / fc;
        p = s * (2 * xm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      p = std::fabs(p);
      if (2 * p < std::min(3 * xm * q - std::fabs(tol1 * q), std::fabs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += std::fabs(d) > tol1 ? d : std::copysign(tol1, xm);
    fb = f(b);
  }
  return b;
}

// Brent's minimiser on [a, b] starting at x (NR brent).
template <typename F>
Real Minimize(F&& f, Real a, Real b, Real x, Real tol, Real* fmin) {
  constexpr Real kGold = 0.3819660112501051518L, kZeps = 1e-18L;
  Real d = 0, e = 0;
  Real w = x, v = x, fx = f(x), fw = fx, fv = fx;
  for (int iter = 0; iter < 200; ++iter) {
    const Real xm = (a + b) / 2, tol1 = tol * std::fabs(x) + kZeps, tol2 = 2 * tol1;
    if (std::fabs(x - xm) <= tol2 - (b - a) / 2) break;
    if (std::fabs(e) > tol1) {
      Real r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = std::fabs(q);
      const Real etemp = e;
      e = d;
      if (std::fabs(p) >= std::fabs(q * etemp / 2) || p <= q * (a - x) || p >= q * (b - x)) {
        e = x >= xm ? a - x : b - x;
        d = kGold * e;
      } else {
        d = p / q;
        const Real u = x + d;
        if (u - a < tol2 || b - u < tol2) d = std::copysign(tol1, xm - x);
      }
    } else {
      e = x >= xm ? a - x : b - x;
      d = kGold * e;
    }
    const Real u = std::fabs(d) >= tol1 ? x + d : x + std::copysign(tol1, d);
    const Real fu = f(u);
    if (fu <= fx) {
      if (u >= x) {
        a = x;
      } else {
        b = x;
      }
      v = w;
      w = x;
      x = u;
      fv = fw;
      fw = fx;
      fx = fu;
    } else {
      if (u < x) {
        a = u;
      } else {
        b = u;
      }
      if (fu <= fw || w == x) {
        v = w;
        w = u;
        fv = fw;
        fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u;
        fv = fu;
      }
    }
  }
  *fmin = fx;
  return x;
}

// The Lambda of the profile at `alpha` (alpha >= 1), as z = Lambda * xmin: the score
// equation E[x] = mean(x), i.e. E_{alpha-1}(z) / E_alpha(z) - 1 = T_x / (k xmin) =: m,
// whose left side decreases from 1/(alpha-2) (alpha > 2; infinity otherwise) at z = 0 to 0.
// Solved in u = ln z. `hint`: a previous solution (> 0) to start the bracket from.
Real ProfileZ(Real alpha, const TailStats& s, Real hint) {
  const Real m = s.t_x / (s.k * s.xmin);
  if (alpha > 2 && m * (alpha - 2) >= 1) return 0;  // maximum at Lambda = 0 (power law)
  const Real log_m = std::log(m);
  // g(u) and, from the recurrence E_{p-1} = (e^{-z} - (p-1) E_p) / z (scaled by e^z), its
  // derivative z d/dz: (E_{a-1} - E_{a-2}) / (E_{a-1} - E_a) + E_{a-1} / E_a.
  auto g_and_slope = [&](Real u, Real* slope) {
    const Real z = std::exp(u);
    Real e = 0, em1 = 0;
    tpl::ScaledExpIntPair(alpha, z, &e, &em1);
    if (slope != nullptr) {
      const Real em2 = (1 - (alpha - 2) * em1) / z;
      *slope = z * ((em1 - em2) / (em1 - e) + em1 / e);
    }
    return std::log((em1 - e) / e) - log_m;
  };
  auto g = [&](Real u) { return g_and_slope(u, nullptr); };
  constexpr Real kLo = -250, kHi = 250;
  Real u0 = hint > 0 ? std::log(hint) : -log_m;
  u0 = std::clamp(u0, kLo, kHi);
  // Newton from the hint (a neighbouring candidate's solution: a few steps), kept only
  // while it converges; otherwise bracket and Brent.
  for (int it = 0; it < 8; ++it) {
    Real slope = 0;
    const Real gu = g_and_slope(u0, &slope);
    if (gu == 0) return std::exp(u0);
    if (!(slope < 0) || !std::isfinite(gu)) break;
    const Real step = -gu / slope;
    if (std::fabs(step) > 2) break;
    u0 += step;
    if (std::fabs(step) < 1e-13L) return std::exp(u0);
  }
  u0 = std::clamp(u0, kLo, kHi);
  Real g0 = g(u0);
  if (g0 == 0) return std::exp(u0);
  Real step = 1e-3;
  Real u1 = u0, g1 = g0;
  // g decreases in u: g > 0 means z is too small.
  for (int i = 0; i < 60; ++i) {
    u1 = std::clamp(g0 > 0 ? u0 + step : u0 - step, kLo, kHi);
    g1 = g(u1);
    if ((g1 > 0) != (g0 > 0) || g1 == 0) break;
    if (u1 == kLo) return 0;  // z below e^-250: the power law to any precision
    if (u1 == kHi) return std::exp(kHi);
    u0 = u1;
    g0 = g1;
    step *= 2;
  }
  if ((g1 > 0) == (g0 > 0) && g1 != 0) return std::exp(u1);
  return std::exp(FindRoot(g, u0, u1, g0, g1, 1e-14L));
}

// Mean log-likelihood per point, without the constant -ln xmin.
Real MeanLogLik(Real alpha, Real z, const TailStats& s) {
  const Real lambda_term = z == 0 ? 0 : z * s.t_x / (s.k * s.xmin);
  return -alpha * s.t_ln / s.k - lambda_term - LogScaledE(alpha, z);
}

struct ProfileFit {
  Real alpha = 0, z = 0, mean_loglik = 0;
};

// The maximum over alpha >= 1, Lambda >= 0. `alpha_hint`, `z_hint`: a neighbouring fit.
ProfileFit FitProfile(const TailStats& s, Real alpha_hint, Real z_hint) {
  const Real alpha_pl = 1 + s.k / s.t_ln;  // the power law's MLE (Nelder-Mead's start there)
  Real start = alpha_hint > 1 ? alpha_hint : alpha_pl;
  Real z_last = z_hint;
  auto neg = [&](Real alpha) {
    const Real z = ProfileZ(alpha, s, z_last);
    if (z > 0) z_last = z;
    return -MeanLogLik(alpha, z, s);
  };
  // A window around the start (a neighbour's optimum is usually within 1e-3), widened
  // until the optimum is inside it; the profile is concave, so that optimum is the maximum.
  Real delta = alpha_hint > 1 ? Real(0.01) * start + Real(1e-3) : start;
  ProfileFit out;
  for (int expand = 0; expand < 40; ++expand) {
    const Real lo = std::max(Real(1), start - delta), hi = start + delta;
    const Real s0 = std::clamp(start, lo + (hi - lo) * 1e-3L, hi - (hi - lo) * 1e-3L);
    Real fmin = 0;
    const Real a = Minimize(neg, lo, hi, s0, Real(1e-9), &fmin);
    out.alpha = a;
    out.mean_loglik = -fmin;
    const Real edge = (hi - lo) * 1e-4L;
    const bool at_lo = a < lo + edge && lo > 1, at_hi = a > hi - edge;
    if (!at_lo && !at_hi) break;
    start = a;
    delta *= 8;
  }
  out.z = ProfileZ(out.alpha, s, z_last);
  out.mean_loglik = MeanLogLik(out.alpha, out.z, s);
  return out;
}

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

// G(x) = int_x^inf t^-alpha e^{-Lambda t} dt = x^{1-alpha} E_alpha(Lambda x) in float64,
// as the reference's float(gammainc(1 - alpha, Lambda x)) / Lambda**(1 - alpha) (to an ulp
// or two). `log_x` = ln x.
double TailIntegral(double alpha, double lambda, double x, double log_x) {
  if (lambda == 0) return std::exp((1 - alpha) * log_x) / (alpha - 1);
  const double z = lambda * x;
  return std::exp((1 - alpha) * log_x - z) * tpl::ScaledExpInt(alpha, z);
}

// The reference's KS distance of candidate `i` (first index of its value): over the unique
// values x_u >= xmin, |model CDF - empirical CDF| with the empirical CDF "fraction below x_u"
// of all n points, renormalised to the tail, and the model CDF
// ((1 - G(x_u)) - (1 - G(xmin))) / (1 - (1 - G(xmin))) in float64. Stops early (returns a
// value >= `stop_at`) once the running maximum reaches `stop_at`: such a candidate cannot be
// the first minimum.
double KsDistance(std::span<const double> x, std::span<const double> logs, size_t i, double alpha,
                  double lambda, double stop_at) {
  const size_t n = x.size();
  const double cdf_xmin = 1.0 - TailIntegral(alpha, lambda, x[i], logs[i]);
  if (cdf_xmin == 1.0) return 1.0;  // model CDF all ones; the empirical one starts at 0
  const double norm = 1.0 - cdf_xmin;
  const double f0 = static_cast<double>(i) / static_cast<double>(n);
  const double tail_norm = 1.0 - f0;
  double d = 0;
  for (size_t j = i; j < n;) {
    const double emp = (static_cast<double>(j) / static_cast<double>(n) - f0) / tail_norm;
    const double model = ((1.0 - TailIntegral(alpha, lambda, x[j], logs[j])) - cdf_xmin) / norm;
    const double diff = std::fabs(model - emp);
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
  const ProfileFit f = FitProfile(s, 0, 0);
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
  return static_cast<double>(s.k * (MeanLogLik(alpha, z, s) - s.log_xmin));
}

TplFit FitTruncatedPowerLaw(std::span<const double> all_evals, const AnalysisOptions& options) {
  TplFit out;
  std::span<const double> evals = all_evals;
  if (options.xmax_drop > 0) {
    if (2 * options.xmax_drop > static_cast<int64_t>(evals.size())) {
      out.failure = absl::StrCat("xmax=-", options.xmax_drop, " drops more than half of the ",
                                 evals.size(), " eigenvalues");
      return out;
    }
    evals = evals.first(evals.size() - options.xmax_drop);
  }
  const auto first_nz = std::upper_bound(evals.begin(), evals.end(), ks::kFitThreshold);
  const std::span<const double> x(first_nz, evals.end());
  const size_t n = x.size();

  // Candidates: the first index of every unique value but the largest (E_TPL: in its window,
  // and again without the window's largest value).
  std::vector<size_t> candidates;
  for (size_t j = 0; j < n;
       j = static_cast<size_t>(std::upper_bound(x.begin() + j, x.end(), x[j]) - x.begin())) {
    candidates.push_back(j);
  }
  if (!candidates.empty()) candidates.pop_back();
  if (options.fit == FitType::kExtendedTpl && n > 0) {
    double lo = 0, hi = 0;
    ExtendedTplWindow(x, &lo, &hi);
    std::vector<size_t> window;
    for (size_t j = 0; j < n;
         j = static_cast<size_t>(std::upper_bound(x.begin() + j, x.end(), x[j]) - x.begin())) {
      if (x[j] >= lo && x[j] <= hi) window.push_back(j);
    }
    if (!window.empty()) window.pop_back();
    candidates = std::move(window);
  }
  out.num_candidates = static_cast<int64_t>(candidates.size());
  if (candidates.empty()) {
    out.failure = n < 2 ? absl::StrCat("truncated power-law fit needs >= 2 distinct eigenvalues > ",
                                       ks::kFitThreshold, ", have ", n)
                        : "truncated power-law fit: no xmin candidate in the E_TPL window";
    return out;
  }

  const Suffix suffix(x);
  std::vector<double> logs(n);
  for (size_t j = 0; j < n; ++j) logs[j] = std::log(x[j]);
  double best_d = std::numeric_limits<double>::infinity();
  size_t best = n;
  ProfileFit best_fit;
  Real alpha_hint = 0, z_hint = 0;
  for (size_t i : candidates) {
    const TailStats s = suffix.Stats(x, i);
    const ProfileFit f = FitProfile(s, alpha_hint, z_hint);
    alpha_hint = f.alpha;
    if (f.z > 0) z_hint = f.z;
    const double d = KsDistance(x, logs, i, static_cast<double>(f.alpha),
                                static_cast<double>(f.z / s.xmin), best_d);
    if (std::isnan(d) || !(d < best_d)) continue;
    best_d = d;
    best = i;
    best_fit = f;
  }
  if (best == n) {
    out.failure = "truncated power-law fit: no candidate with a finite KS distance";
    return out;
  }
  const TailStats s = suffix.Stats(x, best);
  const Real alpha = best_fit.alpha, z = best_fit.z;
  out.ok = true;
  out.alpha = static_cast<double>(alpha);
  out.Lambda = static_cast<double>(z / s.xmin);
  out.xmin = x[best];
  out.D = best_d;
  out.num_pl_spikes = evals.end() - std::lower_bound(evals.begin(), evals.end(), out.xmin);
  out.loglik = static_cast<double>(s.k * (best_fit.mean_loglik - s.log_xmin));

  // powerlaw's distribution_compare('power_law', 'truncated_power_law', nested) with
  // weightwatcher's normalized_ratio=True, at this xmin: the power law's continuous MLE
  // against the fit above, per-point log-likelihood differences d_j.
  const Real alpha_pl = 1 + s.k / s.t_ln;
  const Real log_e = LogScaledE(alpha, z);
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

}  // namespace htsr
