// Model-level diagnostics the paper names, computed from per-layer results or model
// summaries: under- and over-trained layer counts (alpha outside [2, 6]), correlation traps
// (after --randomize: layers whose shuffled weights still have eigenvalues above the random
// bulk), and scale collapse (norm metrics that fall while alpha does not, between comparable
// models). Each comes with a sentence in plain words for reports and the terminal.
#ifndef HTSR_CLIENT_MODEL_DIAGNOSTICS_H_
#define HTSR_CLIENT_MODEL_DIAGNOSTICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "htsr/layer.h"
#include "htsr/thresholds.h"
#include "model/model_record.h"

namespace htsr::model {

struct DiagnosticThresholds {
  double alpha_low = kAlphaOverTrained;    // below: over-trained (very heavy tail)
  double alpha_high = kAlphaUnderTrained;  // above: under-trained (close to random)
  // Scale collapse: both log10 norm averages fall by more than this...
  double norm_drop = 0.05;
  // ...while the alpha average falls by no more than this (0: "does not fall").
  double alpha_tolerance = 0.0;
};

struct ModelDiagnostics {
  int64_t analysed = 0, failed = 0;
  std::vector<int> under_trained;  // layer ids, alpha > alpha_high
  std::vector<int> over_trained;   // layer ids, alpha < alpha_low
  double mean_alpha = 0;
  double median_alpha = 0;
  // "The model as a whole looks poorly trained": most analysed layers are under-trained and
  // the median alpha is above alpha_high. One extreme layer (a degenerate fit with alpha 40)
  // moves the mean, never this verdict.
  bool poorly_trained = false;
  // Correlation traps: known only when the randomized analysis ran on some layer, and
  // counted only from Marchenko-Pastur fits that mean something (MpFitIsMeaningful).
  bool traps_checked = false;
  std::vector<int> trap_layers;  // layer ids with num_traps > 0 and a meaningful MP fit
  int64_t total_traps = 0;
  std::vector<int> trap_no_verdict;  // randomized, but the MP fit is degenerate: no verdict
};

// The rule for trap verdicts (README "Diagnostics"): the layer has at least
// kMinMpEigenvalues eigenvalues, and the eigenvalues counted outside the random bulk are
// at most kMaxMpSpikeFraction of them. A 1024 x 1 matrix (one eigenvalue) or a fit that
// puts 3968 of 8192 eigenvalues outside the bulk has not found a bulk: it says nothing
// about traps.
inline constexpr int64_t kMinMpEigenvalues = 10;
inline constexpr double kMaxMpSpikeFraction = 0.1;
bool MpFitIsMeaningful(const LayerResult& layer, int64_t spikes);

ModelDiagnostics DiagnoseLayers(const std::vector<LayerResult>& layers,
                                const DiagnosticThresholds& t = {});

// Model `name` against `reference` (a base model, an earlier checkpoint, the teacher).
struct ScaleCollapse {
  std::string model, reference;
  std::string series;  // where they were compared ("A, B" when in several; "" none)
  double d_log_norm = 0, d_log_spectral_norm = 0, d_alpha = 0;  // model - reference
  bool collapsed = false;
};

// Needs log_norm, log_spectral_norm and alpha in both; nullopt otherwise.
std::optional<ScaleCollapse> CompareScale(const ModelRecord& model, const ModelRecord& reference,
                                          const DiagnosticThresholds& t = {});

// Whether both records have layers and the same analysed layer shapes, in order.
bool SameArchitecture(const ModelRecord& a, const ModelRecord& b);

// Scale collapse between comparable pairs of `records`: never across series (records with
// different non-empty series), never between copies of one input, never with an empty
// model. Within one series with accuracies for both: any pair where the collapsed model is
// the *worse* one (the norms then point the wrong way, the paper's warning). Otherwise only
// models of one architecture (SameArchitecture: checkpoints of a run, base vs fine-tuned or
// distilled). Only collapsed pairs are returned.
std::vector<ScaleCollapse> FindScaleCollapse(const std::vector<ModelRecord>& records,
                                             bool target_is_error,
                                             const DiagnosticThresholds& t = {});

// Plain-words warnings for one model (empty when nothing is worth saying).
std::vector<std::string> DiagnosticWarnings(const ModelDiagnostics& d,
                                            const DiagnosticThresholds& t = {});
std::string DescribeScaleCollapse(const ScaleCollapse& c);

}  // namespace htsr::model

#endif  // HTSR_CLIENT_MODEL_DIAGNOSTICS_H_
