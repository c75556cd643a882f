// The reference's KS distance of a truncated power-law candidate (docs/spec.md §3a), term by
// term, in float64 as the reference computes it: shared by the host scan's loop and the CUDA
// kernel's block-wide maximum (HTSR_HOST_DEVICE), so both evaluate the same expressions.
#ifndef HTSR_TPL_KS_H_
#define HTSR_TPL_KS_H_

#include <cstdint>

#include "htsr/host_device.h"
#include "htsr/tpl_math.h"

namespace htsr::tpl {

// G(x) = int_x^inf t^-alpha e^{-Lambda t} dt = x^{1-alpha} E_alpha(Lambda x) in float64,
// as the reference's float(gammainc(1 - alpha, Lambda x)) / Lambda**(1 - alpha) (to an ulp
// or two). `log_x` = ln x.
HTSR_HOST_DEVICE inline double TailIntegral(double alpha, double lambda, double x, double log_x) {
  if (lambda == 0) return hd::Exp((1 - alpha) * log_x) / (alpha - 1);
  const double z = lambda * x;
  return hd::Exp((1 - alpha) * log_x - z) * ScaledExpInt(alpha, z);
}

// What every term of one candidate's KS distance shares: the model CDF
// ((1 - G(x)) - (1 - G(xmin))) / (1 - (1 - G(xmin))) and the empirical CDF "fraction of all
// n points below x", renormalised to the tail of candidate index i.
struct KsCandidate {
  double alpha = 0, lambda = 0;
  double cdf_xmin = 0, norm = 0;  // 1 - G(xmin) and 1 - cdf_xmin
  double f0 = 0, tail_norm = 0;   // i / n and 1 - f0
  double n = 0;
  // The model CDF at xmin rounds to 1: it is 1 everywhere, the empirical one starts at 0,
  // so D = 1 without looking at the tail.
  bool saturated = false;
};

HTSR_HOST_DEVICE inline KsCandidate MakeKsCandidate(double alpha, double lambda, double xmin,
                                                    double log_xmin, int64_t i, int64_t n) {
  KsCandidate c;
  c.alpha = alpha;
  c.lambda = lambda;
  c.cdf_xmin = 1.0 - TailIntegral(alpha, lambda, xmin, log_xmin);
  c.saturated = c.cdf_xmin == 1.0;
  c.norm = 1.0 - c.cdf_xmin;
  c.n = static_cast<double>(n);
  c.f0 = static_cast<double>(i) / c.n;
  c.tail_norm = 1.0 - c.f0;
  return c;
}

// |model CDF - empirical CDF| at x = x_j (first index j of its value); NaN propagates.
HTSR_HOST_DEVICE inline double KsTerm(const KsCandidate& c, double x, double log_x, int64_t j) {
  const double emp = (static_cast<double>(j) / c.n - c.f0) / c.tail_norm;
  const double model = ((1.0 - TailIntegral(c.alpha, c.lambda, x, log_x)) - c.cdf_xmin) / c.norm;
  return hd::Fabs(model - emp);
}

}  // namespace htsr::tpl

#endif  // HTSR_TPL_KS_H_
