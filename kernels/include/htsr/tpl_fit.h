// Truncated power-law fits (docs/spec.md §3a): the reference's fit='TPL' and fit='E_TPL'
// (weightwatcher 0.7.7 with pl_package='powerlaw', i.e. powerlaw 1.5's Fit with
// xmin_distribution='truncated_power_law'), and powerlaw's likelihood-ratio test of the power
// law against the truncated power law at the chosen xmin.
#ifndef HTSR_TPL_FIT_H_
#define HTSR_TPL_FIT_H_

#include <cstdint>
#include <span>
#include <string>

#include "htsr/options.h"

namespace htsr {

// Maximum-likelihood TPL p(x) = x^-alpha e^(-Lambda x) / Z on x >= xmin over alpha >= 1,
// Lambda >= 0 (the reference's valid range is alpha > 1, Lambda > 0; a maximum on its border
// is reported on the border). The log-likelihood is concave in (alpha, Lambda) (exponential
// family in (ln x, x)), so the maximum is unique: a 1-D profile over alpha (Brent) with the
// exact Lambda of each alpha (the score equation E[x] = mean x, solved in ln Lambda).
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

// The reference's TPL fit of one layer. `evals`: pooled, ascending, zeros kept. `fit` is
// kTruncatedPowerLaw (every unique value but the largest is an xmin candidate) or
// kExtendedTpl (candidates restricted to the reference's E_TPL window around the peak of the
// log10 histogram). options.xmax_drop applies as for the power law.
TplFit FitTruncatedPowerLaw(std::span<const double> evals, const AnalysisOptions& options);

}  // namespace htsr

#endif  // HTSR_TPL_FIT_H_
