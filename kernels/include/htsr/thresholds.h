// The alpha bands of heavy-tailed self-regularization, one definition for the engine's
// per-layer warning, the summary counts, diagnostics, trends, policies and reports.
// Well-trained layers have 2 <= alpha <= 6.
#ifndef HTSR_THRESHOLDS_H_
#define HTSR_THRESHOLDS_H_

namespace htsr {

// Below: over-trained (a very heavy tail).
inline constexpr double kAlphaOverTrained = 2.0;
// Above: under-trained (close to random).
inline constexpr double kAlphaUnderTrained = 6.0;

}  // namespace htsr

#endif  // HTSR_THRESHOLDS_H_
