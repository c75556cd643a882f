// The per-candidate truncated power-law fit (docs/spec.md §3a): from a tail's sufficient
// statistics, the maximum-likelihood (alpha, Lambda) over alpha >= 1, Lambda >= 0. One
// HTSR_HOST_DEVICE template on the floating type, so that the host scan (long double) and the
// CUDA scan (double, one thread per candidate) run the same code.
//
// The log-likelihood is concave in (alpha, Lambda) (exponential family in (ln x, x)), so the
// maximum is unique: a 1-D profile over alpha (Brent) with the exact Lambda of each alpha (the
// score equation E[x] = mean x, solved in ln Lambda).
#ifndef HTSR_TPL_PROFILE_H_
#define HTSR_TPL_PROFILE_H_

#include "htsr/brent.h"
#include "htsr/host_device.h"
#include "htsr/tpl_math.h"

namespace htsr::tpl {

// Sufficient statistics of a tail x_0 = xmin <= x_1 <= ... (k points):
// T_ln = sum ln(x / xmin), T_x = sum (x - xmin).
template <typename T>
struct TailStats {
  T xmin = 0, log_xmin = 0, k = 0, t_ln = 0, t_x = 0;
};

// ln(e^z E_alpha(z)); z = 0 is the power law's 1 / (alpha - 1).
template <typename T>
HTSR_HOST_DEVICE T LogScaledE(T alpha, T z) {
  if (z == 0) return -hd::Log(alpha - 1);
  return hd::Log(ScaledExpInt(alpha, z));
}

// The Lambda of the profile at `alpha` (alpha >= 1), as z = Lambda * xmin: the score
// equation E[x] = mean(x), i.e. E_{alpha-1}(z) / E_alpha(z) - 1 = T_x / (k xmin) =: m,
// whose left side decreases from 1/(alpha-2) (alpha > 2; infinity otherwise) at z = 0 to 0.
// Solved in u = ln z. `hint`: a previous solution (> 0) to start the bracket from; 0: none.
template <typename T>
HTSR_HOST_DEVICE T ProfileZ(T alpha, const TailStats<T>& s, T hint) {
  const T m = s.t_x / (s.k * s.xmin);
  if (alpha > 2 && m * (alpha - 2) >= 1) return 0;  // maximum at Lambda = 0 (power law)
  const T log_m = hd::Log(m);
  // g(u) and, from the recurrence E_{p-1} = (e^{-z} - (p-1) E_p) / z (scaled by e^z), its
  // derivative z d/dz: (E_{a-1} - E_{a-2}) / (E_{a-1} - E_a) + E_{a-1} / E_a.
  auto g_and_slope = [&](T u, T* slope) {
    const T z = hd::Exp(u);
    T e = 0, em1 = 0;
    ScaledExpIntPair(alpha, z, &e, &em1);
    if (slope != nullptr) {
      const T em2 = (1 - (alpha - 2) * em1) / z;
      *slope = z * ((em1 - em2) / (em1 - e) + em1 / e);
    }
    return hd::Log((em1 - e) / e) - log_m;
  };
  auto g = [&](T u) { return g_and_slope(u, nullptr); };
  const T kLo = -250, kHi = 250;
  T u0 = hint > 0 ? hd::Log(hint) : -log_m;
  u0 = hd::Clamp(u0, kLo, kHi);
  // Newton from the hint (a neighbouring candidate's solution: a few steps), kept only
  // while it converges; otherwise bracket and Brent.
  for (int it = 0; it < 8; ++it) {
    T slope = 0;
    const T gu = g_and_slope(u0, &slope);
    if (gu == 0) return hd::Exp(u0);
    if (!(slope < 0) || !hd::IsFinite(gu)) break;
    const T step = -gu / slope;
    if (hd::Fabs(step) > 2) break;
    u0 += step;
    if (hd::Fabs(step) < HTSR_REAL(T, 1e-13)) return hd::Exp(u0);
  }
  u0 = hd::Clamp(u0, kLo, kHi);
  T g0 = g(u0);
  if (g0 == 0) return hd::Exp(u0);
  T step = T(1e-3);
  T u1 = u0, g1 = g0;
  // g decreases in u: g > 0 means z is too small.
  for (int i = 0; i < 60; ++i) {
    u1 = hd::Clamp(g0 > 0 ? u0 + step : u0 - step, kLo, kHi);
    g1 = g(u1);
    if ((g1 > 0) != (g0 > 0) || g1 == 0) break;
    if (u1 == kLo) return 0;  // z below e^-250: the power law to any precision
    if (u1 == kHi) return hd::Exp(kHi);
    u0 = u1;
    g0 = g1;
    step *= 2;
  }
  if ((g1 > 0) == (g0 > 0) && g1 != 0) return hd::Exp(u1);
  return hd::Exp(brent::FindRoot(g, u0, u1, g0, g1, HTSR_REAL(T, 1e-14)));
}

// Mean log-likelihood per point, without the constant -ln xmin.
template <typename T>
HTSR_HOST_DEVICE T MeanLogLik(T alpha, T z, const TailStats<T>& s) {
  const T lambda_term = z == 0 ? T(0) : z * s.t_x / (s.k * s.xmin);
  return -alpha * s.t_ln / s.k - lambda_term - LogScaledE(alpha, z);
}

template <typename T>
struct ProfileFit {
  T alpha = 0, z = 0, mean_loglik = 0;  // z = Lambda * xmin
};

// The maximum over alpha >= 1, Lambda >= 0. `alpha_hint`, `z_hint`: a neighbouring fit
// (0: none, the start is the power law's MLE).
template <typename T>
HTSR_HOST_DEVICE ProfileFit<T> FitProfile(const TailStats<T>& s, T alpha_hint, T z_hint) {
  const T alpha_pl = 1 + s.k / s.t_ln;  // the power law's MLE (Nelder-Mead's start there)
  T start = alpha_hint > 1 ? alpha_hint : alpha_pl;
  T z_last = z_hint;
  auto neg = [&](T alpha) {
    const T z = ProfileZ(alpha, s, z_last);
    if (z > 0) z_last = z;
    return -MeanLogLik(alpha, z, s);
  };
  // A window around the start (a neighbour's optimum is usually within 1e-3), widened
  // until the optimum is inside it; the profile is concave, so that optimum is the maximum.
  T delta = alpha_hint > 1 ? T(0.01) * start + T(1e-3) : start;
  ProfileFit<T> out;
  for (int expand = 0; expand < 40; ++expand) {
    const T lo = hd::Max(T(1), start - delta), hi = start + delta;
    const T s0 =
        hd::Clamp(start, lo + (hi - lo) * HTSR_REAL(T, 1e-3), hi - (hi - lo) * HTSR_REAL(T, 1e-3));
    T fmin = 0;
    const T a = brent::Minimize(neg, lo, hi, s0, T(1e-9), &fmin);
    out.alpha = a;
    out.mean_loglik = -fmin;
    const T edge = (hi - lo) * HTSR_REAL(T, 1e-4);
    const bool at_lo = a < lo + edge && lo > 1, at_hi = a > hi - edge;
    if (!at_lo && !at_hi) break;
    start = a;
    delta *= 8;
  }
  out.z = ProfileZ(out.alpha, s, z_last);
  out.mean_loglik = MeanLogLik(out.alpha, out.z, s);
  return out;
}

}  // namespace htsr::tpl

#endif  // HTSR_TPL_PROFILE_H_
