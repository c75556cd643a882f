// The reference's default power-law fit (docs/spec.md §3): threshold, KS scan, fix_fingers,
// xmax = -k, on the pooled spectrum of one layer.
#ifndef HTSR_POWERLAW_FIT_H_
#define HTSR_POWERLAW_FIT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/backend.h"
#include "htsr/options.h"

namespace htsr {

// Below this many points the reference (WWFit) switches to its small-N variant: bias
// corrected alpha = 1 + (k-1)/sum ln(x/xmin), candidates only with >= 8 tail points. The
// final pick is still the first argmin of D (its J objective is overwritten by the caller).
inline constexpr int64_t kSmallNCutoff = 20;
inline constexpr int64_t kSmallNMinTail = 8;

// One fit of sorted data (ascending, every value > the fit threshold).
struct TailFit {
  double alpha = -1, D = -1, sigma = -1, xmin = -1, xmax = -1;
};

// InvalidArgument when data has fewer than 2 points (the reference raises and reports a
// failed fit). Uses backend.ScanPowerLaw for the standard (n >= 20) path.
absl::StatusOr<TailFit> FitTail(std::span<const double> data, Backend& backend);

// One candidate of the KS scan FitTail runs: the tail from xmin up (tail points), its MLE
// alpha and its KS distance D. Small-N candidates with fewer than kSmallNMinTail points are
// not candidates there (alpha 0, D 1) and are left out here.
struct ScanCandidate {
  double xmin = -1, alpha = -1, D = -1;
  int64_t tail = 0;
};

// The whole scan of FitTail on `data` (ascending, every value > the fit threshold), for
// fit-stability plots: how D and alpha move with xmin. Same alpha (compensated suffix sums,
// the small-N bias correction below kSmallNCutoff) and the same KS terms as the fit, so the
// candidate at the fit's xmin has the fit's alpha and D; but every D is complete (no
// pruning). At most `max_candidates` candidates, evenly spaced by index (first and last
// kept); the work is max_candidates * n terms. Empty for fewer than 2 points. Never used
// by the fit itself: reported numbers do not depend on it.
std::vector<ScanCandidate> ScanCurve(std::span<const double> data, int64_t max_candidates);

struct PowerLawFit {
  bool ok = false;
  std::string failure;  // why !ok
  double alpha = -1, D = -1, sigma = -1, xmin = -1, xmax = -1;
  int64_t num_pl_spikes = -1;
  int64_t num_fingers = 0;  // fix_fingers only
  double raw_alpha = -1;    // fix_fingers only: alpha of the unclipped fit
};

// The eigenvalues a fit sees, from all of a layer's (ascending): `kept` without the top
// `xmax_drop` (the reference's xmax = -k; refused when k is more than half of them), and
// `fitted`, the suffix of `kept` above ks::kFitThreshold. Shared by the power-law and the
// truncated power-law fits.
struct FitRange {
  std::span<const double> kept, fitted;
};
absl::StatusOr<FitRange> SelectFitRange(std::span<const double> evals, int64_t xmax_drop);

// `evals`: the layer's pooled eigenvalues, ascending, zeros kept.
PowerLawFit FitPowerLaw(std::span<const double> evals, const AnalysisOptions& options,
                        Backend& backend);

}  // namespace htsr

#endif  // HTSR_POWERLAW_FIT_H_
