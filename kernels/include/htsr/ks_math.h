// Per-element math of the power-law KS scan (docs/spec.md §3), shared by the CPU scan and the
// CUDA kernel so that both evaluate exactly the same expressions. No CUDA types here:
// under nvcc the functions become __host__ __device__, elsewhere plain inline.
#ifndef HTSR_KS_MATH_H_
#define HTSR_KS_MATH_H_

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define HTSR_HD __host__ __device__ __forceinline__
#else
#define HTSR_HD inline
#endif

namespace htsr::ks {

// Eigenvalues at or below this are not part of the fit (reference threshold).
inline constexpr double kFitThreshold = 1e-5;

// Continuous MLE exponent for the tail x_i..x_{n-1} (k = n - i points):
//   alpha_i = 1 + k / (sum_{j>=i} ln x_j - k ln x_i).
// `tail_log_sum` is sum_{j>=i} ln x_j (from a suffix sum).
HTSR_HD double Alpha(int64_t k, double tail_log_sum, double log_xmin) {
  return 1.0 + static_cast<double>(k) / (tail_log_sum - static_cast<double>(k) * log_xmin);
}

// One term of the KS distance between the empirical tail CDF and the fitted power law:
//   | 1 - (x/xmin)^(1-alpha) - m/k |, m = 0..k-1.
// The reference evaluates (x/xmin)^(1-alpha), which is exactly 1 for x == xmin whatever
// alpha is (also for alpha = inf from an all-equal tail); exp((1-alpha)*0) would give NaN
// for infinite alpha, so that case is spelled out.
HTSR_HD double KsTerm(double log_x, double log_xmin, double alpha, int64_t m, int64_t k) {
  const double log_ratio = log_x - log_xmin;
  const double model_cdf = log_ratio == 0.0 ? 0.0 : 1.0 - exp((1.0 - alpha) * log_ratio);
  return fabs(model_cdf - static_cast<double>(m) / static_cast<double>(k));
}

// Standard error of alpha (no bias correction, as the reference).
HTSR_HD double Sigma(double alpha, int64_t k) {
  return (alpha - 1.0) / sqrt(static_cast<double>(k));
}

}  // namespace htsr::ks

#endif  // HTSR_KS_MATH_H_
