// Special functions of the truncated power law (docs/spec.md §3a): the generalised exponential
// integral E_p(z) = int_1^inf e^{-z t} t^{-p} dt for real p >= 0 and z > 0, from which the TPL
// normaliser follows:
//   int_xmin^inf x^{-alpha} e^{-Lambda x} dx = Lambda^{alpha-1} Gamma(1-alpha, Lambda xmin)
//                                            = xmin^{1-alpha} E_alpha(Lambda xmin).
// For alpha > 1 the incomplete gamma function has a negative shape; E_p avoids it:
//   * z >= 1: the continued fraction of E_p (modified Lentz), which gives e^z E_p(z) directly
//     (no underflow for large z);
//   * z < 1: the power series at an order p0 in [0, 1.5), written so that the pole of
//     Gamma(1 - p0) at p0 = 1 cancels analytically (no loss near integer orders), then the
//     recurrence p E_{p+1} = e^{-z} - z E_p upwards to p (stable for z < 1: each step damps the
//     error by z / p).
// Header-only HTSR_HOST_DEVICE templates on the floating type: the host fit uses long double,
// the KS distance (host and device) and the CUDA TPL scan double (htsr/host_device.h).
#ifndef HTSR_TPL_MATH_H_
#define HTSR_TPL_MATH_H_

#include <cstdint>

#include "htsr/host_device.h"

namespace htsr::tpl {

// expm1(x) / x, 1 at 0.
template <typename T>
HTSR_HOST_DEVICE T Exprel(T x) {
  if (hd::Fabs(x) < T(1e-6)) return T(1) + x / 2 + x * x / 6;
  return hd::Expm1(x) / x;
}

// zeta(2) .. zeta(23), the digits once; S: the literal suffix (L or nothing).
// |e| <= 0.1 in LogGamma1pOverE needs k <= 22.
#define HTSR_TPL_ZETA_2_TO_23(S)                                                                   \
  1.644934066848226436472415##S, 1.202056903159594285399738##S, 1.082323233711138191516004##S,     \
      1.036927755143369926331365##S, 1.017343061984449139714518##S, 1.008349277381922826839798##S, \
      1.004077356197944339378685##S, 1.002008392826082214417853##S, 1.000994575127818085337146##S, \
      1.000494188604119464558702##S, 1.000246086553308048298638##S, 1.000122713347578489146752##S, \
      1.000061248135058704829259##S, 1.000030588236307020493552##S, 1.000015282259408651871733##S, \
      1.000007637197637899762274##S, 1.000003817293264999839856##S, 1.000001908212716553938926##S, \
      1.000000953962033872796113##S, 1.000000476932986787806463##S, 1.00000023845050272773299##S,  \
      1.000000119219925965311073##S

// ln Gamma(1 + e) / e for e in (-0.5, 1], without cancellation near e = 0:
//   -gamma + sum_{k>=2} (-1)^k zeta(k) e^{k-1} / k.
template <typename T>
HTSR_HOST_DEVICE T LogGamma1pOverE(T e) {
  if (hd::Fabs(e) > T(0.1)) return hd::Log(hd::Tgamma(T(1) + e)) / e;
#if defined(__CUDA_ARCH__)
  static constexpr double kZeta[] = {HTSR_TPL_ZETA_2_TO_23()};  // no long double on the device
#else
  // The host keeps the long double table, also for T = double: unchanged results.
  static constexpr long double kZeta[] = {HTSR_TPL_ZETA_2_TO_23(L)};
#endif
  const T kEulerGamma = HTSR_REAL(T, 0.5772156649015328606065121);
  T sum = 0, pw = e;  // e^{k-1}
  for (int k = 2; k < 24; ++k) {
    const T term = static_cast<T>(kZeta[k - 2]) * pw / static_cast<T>(k);
    sum += (k % 2 == 0) ? term : -term;
    pw *= e;
  }
  return sum - kEulerGamma;
}

// E_p(z) for p in [0, 1.5) and 0 < z < 1 by the power series
//   E_p(z) = Gamma(1-p) z^{p-1} - sum_{k>=0} (-z)^k / (k! (k + 1 - p)),
// with eps = 1 - p: Gamma(eps) z^{-eps} - 1/eps = L * exprel(eps L), L = lnGamma(1+eps)/eps -
// ln z, so the k = 0 pole and Gamma's pole cancel in closed form.
template <typename T>
HTSR_HOST_DEVICE T ExpIntSeriesLowOrder(T p, T z) {
  const T eps = T(1) - p;
  const T L = LogGamma1pOverE(eps) - hd::Log(z);
  const T head = L * Exprel(eps * L);
  T tail = 0, pw = T(1);  // (-z)^k / k!
  for (int k = 1; k < 80; ++k) {
    pw *= -z / static_cast<T>(k);
    const T term = pw / (static_cast<T>(k) + eps);
    tail += term;
    if (hd::Fabs(term) <= hd::Epsilon<T>() / 8 * hd::Fabs(tail)) break;
  }
  return head - tail;
}

// e^z E_p(z) for z >= 1 (any p >= 0) by the continued fraction
//   E_p(z) = e^{-z} / (z + p - 1*p / (z + p + 2 - 2 (p+1) / (z + p + 4 - ...))).
template <typename T>
HTSR_HOST_DEVICE T ScaledExpIntContinuedFraction(T p, T z) {
  constexpr T kTiny = T(1e-300);
  T b = z + p;
  T c = T(1) / kTiny;
  T d = T(1) / b;
  T h = d;
  for (int i = 1; i < 2000; ++i) {
    const T an = -static_cast<T>(i) * (p - T(1) + static_cast<T>(i));
    b += T(2);
    d = an * d + b;
    if (hd::Fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (hd::Fabs(c) < kTiny) c = kTiny;
    d = T(1) / d;
    const T del = c * d;
    h *= del;
    if (hd::Fabs(del - T(1)) < 2 * hd::Epsilon<T>()) break;
  }
  return h;
}

// e^z E_p(z) and e^z E_{p-1}(z) (the latter only when p >= 1; else left unchanged), p >= 0,
// z > 0. The scaling keeps both finite for any z.
template <typename T>
HTSR_HOST_DEVICE void ScaledExpIntPair(T p, T z, T* ep, T* ep_minus_1) {
  if (z >= T(1)) {
    const T e = ScaledExpIntContinuedFraction(p, z);
    *ep = e;
    // (p-1) E_p = e^{-z} - z E_{p-1}; loses at most a factor (z+p)/(z+1) in relative terms.
    if (p >= T(1) && ep_minus_1 != nullptr) *ep_minus_1 = (T(1) - (p - T(1)) * e) / z;
    return;
  }
  const T ez = hd::Exp(z), emz = hd::Exp(-z);
  if (p < T(1.5)) {
    *ep = ez * ExpIntSeriesLowOrder(p, z);
    if (p >= T(1) && ep_minus_1 != nullptr) *ep_minus_1 = ez * ExpIntSeriesLowOrder(p - T(1), z);
    return;
  }
  const T n = hd::Floor(p - T(0.5));  // p0 = p - n in [0.5, 1.5)
  T q = p - n;
  T e = ExpIntSeriesLowOrder(q, z), prev = e;
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    prev = e;
    e = (emz - z * e) / q;
    q += T(1);
  }
  *ep = ez * e;
  if (ep_minus_1 != nullptr) *ep_minus_1 = ez * prev;
}

// e^z E_p(z), p >= 0, z > 0.
template <typename T>
HTSR_HOST_DEVICE T ScaledExpInt(T p, T z) {
  T e = 0;
  ScaledExpIntPair<T>(p, z, &e, nullptr);
  return e;
}

// Upper incomplete gamma Gamma(a, z) for a <= 1 (negative shapes included), z > 0:
// z^a E_{1-a}(z). For tests and diagnostics.
template <typename T>
HTSR_HOST_DEVICE T UpperIncompleteGamma(T a, T z) {
  return hd::Exp(a * hd::Log(z) - z) * ScaledExpInt(T(1) - a, z);
}

}  // namespace htsr::tpl

#undef HTSR_TPL_ZETA_2_TO_23

#endif  // HTSR_TPL_MATH_H_
