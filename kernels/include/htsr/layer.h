// Layer classification (docs/spec.md §1) and the per-layer result (docs/spec.md §3–4).
#ifndef HTSR_LAYER_H_
#define HTSR_LAYER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "htsr/options.h"
#include "htsr/tensor.h"

namespace htsr {

enum class LayerType : uint8_t { kDense, kConv1d, kConv2d };
enum class LayerStatus : uint8_t { kSuccess, kSkipped, kFailed };
enum class LayerWarning : uint8_t { kNone, kOverTrained, kUnderTrained, kFailed };

std::string_view LayerTypeName(LayerType t);        // "dense", "conv1d", "conv2d"
std::string_view LayerStatusName(LayerStatus s);    // "success", "skipped", "failed"
std::string_view LayerWarningName(LayerWarning w);  // "", "over-trained", "under-trained", "failed"

// What the engine will do with one tensor, decided from metadata alone.
struct LayerPlan {
  int layer_id = 0;         // 1-based, depth order among candidate layers
  std::string name;         // the reference's layer name: tensor name without ".weight"
  std::string tensor_name;  // the tensor's full name in the checkpoint
  LayerType type = LayerType::kDense;
  int64_t rows = 0;       // of each matrix slice as stored (row-major): out
  int64_t cols = 0;       // in
  int64_t N = 0;          // max(rows, cols)
  int64_t M = 0;          // min(rows, cols)
  int64_t rf = 1;         // receptive field: number of slices (kh*kw, or k)
  int64_t num_evals = 0;  // M * rf
  bool analyse = true;
  std::string skip_reason;  // set when !analyse
};

// N and M of a conv2d (out, in, kh, kw) as the reference (weightwatcher 0.7.7, state-dict
// path) reports them and feeds them to its size filter: exchanged when out < in and kh*kw is
// even, or out, in when out + in < kh + kw. docs/compatibility.md, "conv2d N and M".
struct ReferenceShape {
  int64_t N = 0, M = 0;
};
ReferenceShape ReferenceConv2dShape(int64_t out, int64_t in, int64_t kh, int64_t kw);

// Whether `info` is a layer candidate at all (name rule, rank 2..4, floating).
bool IsLayerCandidate(const TensorInfo& info, const AnalysisOptions& options);

// Classifies a candidate tensor: type, N, M, rf and the size filter. Never fails: shapes
// that make no sense (zero or negative dims, overflow) yield analyse=false with a reason.
LayerPlan PlanLayer(const TensorInfo& info, int layer_id, const AnalysisOptions& options);

// Every docs/spec.md §4 column. Optional analyses are nullopt when not requested.
struct LayerResult {
  LayerPlan plan;
  LayerStatus status = LayerStatus::kSuccess;
  LayerWarning warning = LayerWarning::kNone;
  std::string reason;  // why skipped/failed (empty on success)

  double Q = 0;
  double norm = 0, log_norm = 0;
  double spectral_norm = 0, log_spectral_norm = 0;  // lambda_max and its log10
  double alpha = -1, alpha_weighted = 0, log_alpha_norm = 0;
  double D = -1, sigma = -1, xmin = -1, xmax = -1;
  int64_t num_pl_spikes = -1;
  double stable_rank = 0;
  int64_t matrix_rank = 0;
  double entropy = 0;
  double sv_max = 0, sv_min = 0;
  int64_t rank_loss = 0, weak_rank_loss = 0;
  bool has_esd = false;

  // fit = tpl | e_tpl: the truncated power law's Lambda (alpha, xmin, D above are the TPL's;
  // sigma and xmax are NaN, as in the reference), and the log-likelihood ratio test of the
  // power law against it at xmin (normalised R > 0: the power law is preferred; p its
  // significance).
  std::optional<double> Lambda, tpl_R, tpl_p;

  // fix_fingers = clip_xmax
  std::optional<int64_t> num_fingers;
  std::optional<double> raw_alpha;

  // mp_fit
  std::optional<int64_t> num_spikes;
  std::optional<double> sigma_mp, mp_softrank, bulk_min, bulk_max, W_scale;

  // randomize (the reference's column names; num_traps = correlation traps)
  std::optional<double> max_rand_eval, rand_distance, ww_softrank, ww_maxdist;
  std::optional<int64_t> rand_num_spikes, num_traps;
  std::optional<double> rand_sigma_mp, rand_mp_softrank, rand_bulk_max, rand_bulk_min, rand_W_scale;

  // detX
  std::optional<int64_t> detX_num;
  std::optional<double> detX_val, detX_val_unrescaled;

  // The reference's "ERG" columns, computed alongside detX/mp_fit when it emits them.
  std::optional<int64_t> num_ERG_spikes;
  std::optional<double> ERG_gap;

  // analyze --base (client/analysis/base_delta.h): the row is W - W_base's; these compare
  // the two models. delta_* = the metric of W minus that of W_base (each analysed alone);
  // dist_frobenius = ||W - W_base||_F, dist_relative = that / ||W_base||_F, dist_euclidean
  // and dist_cka = the reference's distances(method='euclidean' | 'cka') for the layer.
  std::optional<double> delta_alpha, delta_log_norm, delta_log_spectral_norm;
  std::optional<double> dist_frobenius, dist_relative, dist_euclidean, dist_cka;

  // The pooled spectrum, ascending; kept only when the caller asks (reports, plots).
  std::vector<double> evals;

  // pool = false only: which conv slice this row is (0 for dense layers); nullopt when pooled.
  std::optional<int64_t> slice_id;

  // Seconds spent on this layer (eigen + fit), for logs and benchmarks.
  double seconds = 0;
};

}  // namespace htsr

#endif  // HTSR_LAYER_H_
