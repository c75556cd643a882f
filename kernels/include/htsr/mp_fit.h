// Marchenko-Pastur bulk fit (reference mp_fit / fit_density_with_range / resid_mp).
#ifndef HTSR_MP_FIT_H_
#define HTSR_MP_FIT_H_

#include <cstdint>
#include <span>

namespace htsr {

// Reference sentinels (-1) when the fit cannot be done.
struct MpFitResult {
  int64_t num_spikes = -1;
  double sigma_mp = -1, mp_softrank = -1, bulk_min = -1, bulk_max = -1, W_scale = -1;
};

// `evals`: a spectrum (any order); N, M: the layer's dimensions (Q = N/M; M enters the
// Tracy-Widom margin).
MpFitResult FitMarchenkoPastur(std::span<const double> evals, int64_t N, int64_t M);

}  // namespace htsr

#endif  // HTSR_MP_FIT_H_
