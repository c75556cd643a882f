// Truncated power-law fits (docs/spec.md §3a): the reference's fit='TPL' and fit='E_TPL'
// (weightwatcher 0.7.7 with pl_package='powerlaw', i.e. powerlaw 1.5's Fit with
// xmin_distribution='truncated_power_law'), and powerlaw's likelihood-ratio test of the power
// law against the truncated power law at the chosen xmin.
#ifndef HTSR_TPL_FIT_H_
#define HTSR_TPL_FIT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "htsr/backend.h"
#include "htsr/options.h"

namespace htsr {

// Maximum-likelihood TPL p(x) = x^-alpha e^(-Lambda x) / Z on x >= xmin over alpha >= 1,
// Lambda >= 0 (the reference's valid range is alpha > 1, Lambda > 0; a maximum on its border
// is reported on the border). How: htsr/tpl_profile.h.
struct TplTailFit {
  double alpha = -1, Lambda = -1;
  double loglik = 0;  // sum over the tail of ln p(x)
};

// `tail`: ascending, tail[0] = xmin, all > 0, at least one value > xmin.
TplTailFit FitTplTail(std::span<const double> tail);

// Sum over `tail` (>= xmin = tail[0]) of ln p(x) for the TPL (alpha, Lambda); Lambda = 0 is
// the power law (alpha > 1 then). For comparing optima (tests, the agreement table).
double TplLogLikelihood(std::span<const double> tail, double alpha, double Lambda);

struct TplFit {
  bool ok = false;
  std::string failure;  // why !ok
  double alpha = -1, Lambda = -1, xmin = -1, D = -1;
  int64_t num_pl_spikes = -1;
  double loglik = 0;           // of the reported fit, over the tail
  double R = 0, p = 1;         // PL vs TPL: normalised log-likelihood ratio and its p-value
  int64_t num_candidates = 0;  // xmins scanned
};

// The xmin candidates of `x` (ascending, all > ks::kFitThreshold) as indices: the first index
// of every unique value but the largest; kExtendedTpl: only those in the reference's E_TPL
// window around the peak of the log10 histogram, again without the window's largest.
std::vector<int64_t> TplCandidates(std::span<const double> x, FitType fit);

// Whether (sorted, candidates) meet Backend::ScanTruncatedPowerLaw's contract; InvalidArgument
// naming the first offending value or candidate otherwise.
absl::Status CheckTplScanInput(std::span<const double> sorted, std::span<const int64_t> candidates);

// The host scan, the reference (the CPU backend's ScanTruncatedPowerLaw): candidates in
// order, each fitted in long double from its neighbour's optimum, D stopped early once it
// cannot be the first minimum. Input as CheckTplScanInput accepts (not checked here).
TplScan ScanTruncatedPowerLawHost(std::span<const double> sorted,
                                  std::span<const int64_t> candidates);

// The reference's TPL fit of one layer. `evals`: pooled, ascending, zeros kept. `fit` is
// kTruncatedPowerLaw (every unique value but the largest is an xmin candidate) or
// kExtendedTpl (candidates restricted to the reference's E_TPL window around the peak of the
// log10 histogram). options.xmax_drop applies as for the power law.
// The scan over the candidates runs on `backend`; the rest (candidates, likelihood ratio)
// on the host. The overload without a backend scans on the host.
TplFit FitTruncatedPowerLaw(std::span<const double> evals, const AnalysisOptions& options,
                            Backend& backend);
TplFit FitTruncatedPowerLaw(std::span<const double> evals, const AnalysisOptions& options);

}  // namespace htsr

#endif  // HTSR_TPL_FIT_H_
