// Per-layer spectral metrics (docs/spec.md §2 per-layer values, §4 columns, detX).
#ifndef HTSR_METRICS_H_
#define HTSR_METRICS_H_

#include <cstdint>
#include <span>

#include "htsr/layer.h"

namespace htsr {

// Neumaier-compensated sum: the reference sums with numpy's pairwise summation, accurate
// to a few ulps; a plain loop over 15000 values is not.
double AccurateSum(std::span<const double> v);

// sv_max, sv_min, rank_loss, weak_rank_loss from per-slice spectra. `slices` holds
// `count` runs of `m` ascending eigenvalues; `pooled` is their sorted union; N = layer N.
void ComputeSpectrumStats(std::span<const double> slices, int64_t count, int64_t m,
                          std::span<const double> pooled, int64_t N, LayerResult* r);

// norm, log_norm, spectral_norm, log_spectral_norm, alpha_weighted, log_alpha_norm,
// stable_rank, matrix_rank, entropy from the pooled spectrum and r->alpha (the reference
// computes them with alpha = -1 for a failed fit too).
void ComputeNormMetrics(std::span<const double> pooled, int64_t N, LayerResult* r);

// detX (reference apply_detX): on l_i = lambda_i * n / sum(lambda), scanning from the top,
// the first index idx where prod(l[idx:]) < 1; detX_num = n - idx, detX_val = lambda[idx].
struct DetX {
  int64_t num = 0;
  double val = 0;           // on the original scale (reference column detX_val)
  double val_rescaled = 0;  // l[idx] (reference column detX_val_unrescaled: names inverted)
};
DetX ComputeDetX(std::span<const double> pooled);

}  // namespace htsr

#endif  // HTSR_METRICS_H_
