#include "convert/proto_convert.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"

namespace htsr {

v1::DType ToProto(DType t) {
  switch (t) {
    case DType::kF64:
      return v1::DTYPE_F64;
    case DType::kF32:
      return v1::DTYPE_F32;
    case DType::kF16:
      return v1::DTYPE_F16;
    case DType::kBF16:
      return v1::DTYPE_BF16;
    case DType::kI64:
      return v1::DTYPE_I64;
    case DType::kI32:
      return v1::DTYPE_I32;
    case DType::kI16:
      return v1::DTYPE_I16;
    case DType::kI8:
      return v1::DTYPE_I8;
    case DType::kU8:
      return v1::DTYPE_U8;
    case DType::kBool:
      return v1::DTYPE_BOOL;
    case DType::kF8E4M3:
      return v1::DTYPE_F8_E4M3;
    case DType::kF8E5M2:
      return v1::DTYPE_F8_E5M2;
  }
  return v1::DTYPE_UNSPECIFIED;
}

absl::StatusOr<DType> FromProto(v1::DType t) {
  switch (t) {
    case v1::DTYPE_F64:
      return DType::kF64;
    case v1::DTYPE_F32:
      return DType::kF32;
    case v1::DTYPE_F16:
      return DType::kF16;
    case v1::DTYPE_BF16:
      return DType::kBF16;
    case v1::DTYPE_I64:
      return DType::kI64;
    case v1::DTYPE_I32:
      return DType::kI32;
    case v1::DTYPE_I16:
      return DType::kI16;
    case v1::DTYPE_I8:
      return DType::kI8;
    case v1::DTYPE_U8:
      return DType::kU8;
    case v1::DTYPE_BOOL:
      return DType::kBool;
    case v1::DTYPE_F8_E4M3:
      return DType::kF8E4M3;
    case v1::DTYPE_F8_E5M2:
      return DType::kF8E5M2;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype ", static_cast<int>(t)));
}

v1::LayerType ToProto(LayerType t) {
  switch (t) {
    case LayerType::kDense:
      return v1::LAYER_TYPE_DENSE;
    case LayerType::kConv1d:
      return v1::LAYER_TYPE_CONV1D;
    case LayerType::kConv2d:
      return v1::LAYER_TYPE_CONV2D;
  }
  return v1::LAYER_TYPE_UNSPECIFIED;
}

v1::LayerStatus ToProto(LayerStatus s) {
  switch (s) {
    case LayerStatus::kSuccess:
      return v1::LAYER_STATUS_SUCCESS;
    case LayerStatus::kSkipped:
      return v1::LAYER_STATUS_SKIPPED;
    case LayerStatus::kFailed:
      return v1::LAYER_STATUS_FAILED;
  }
  return v1::LAYER_STATUS_UNSPECIFIED;
}

v1::LayerWarning ToProto(LayerWarning w) {
  switch (w) {
    case LayerWarning::kNone:
      return v1::LAYER_WARNING_NONE;
    case LayerWarning::kOverTrained:
      return v1::LAYER_WARNING_OVER_TRAINED;
    case LayerWarning::kUnderTrained:
      return v1::LAYER_WARNING_UNDER_TRAINED;
    case LayerWarning::kFailed:
      return v1::LAYER_WARNING_FAILED;
  }
  return v1::LAYER_WARNING_NONE;
}

namespace {

absl::StatusOr<LayerType> LayerTypeFromProto(v1::LayerType t) {
  switch (t) {
    case v1::LAYER_TYPE_DENSE:
      return LayerType::kDense;
    case v1::LAYER_TYPE_CONV1D:
      return LayerType::kConv1d;
    case v1::LAYER_TYPE_CONV2D:
      return LayerType::kConv2d;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown layer type ", static_cast<int>(t)));
}

absl::StatusOr<LayerStatus> LayerStatusFromProto(v1::LayerStatus s) {
  switch (s) {
    case v1::LAYER_STATUS_SUCCESS:
      return LayerStatus::kSuccess;
    case v1::LAYER_STATUS_SKIPPED:
      return LayerStatus::kSkipped;
    case v1::LAYER_STATUS_FAILED:
      return LayerStatus::kFailed;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown layer status ", static_cast<int>(s)));
}

absl::StatusOr<LayerWarning> LayerWarningFromProto(v1::LayerWarning w) {
  switch (w) {
    case v1::LAYER_WARNING_NONE:
      return LayerWarning::kNone;
    case v1::LAYER_WARNING_OVER_TRAINED:
      return LayerWarning::kOverTrained;
    case v1::LAYER_WARNING_UNDER_TRAINED:
      return LayerWarning::kUnderTrained;
    case v1::LAYER_WARNING_FAILED:
      return LayerWarning::kFailed;
    default:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown layer warning ", static_cast<int>(w)));
}

// Optional fields: the engine's std::optional and proto3 `optional` both carry presence.
template <typename T, typename Setter>
void SetIf(const std::optional<T>& value, Setter set) {
  if (value.has_value()) set(*value);
}

}  // namespace

v1::AnalysisOptions ToProto(const AnalysisOptions& o) {
  v1::AnalysisOptions p;
  p.set_min_evals(o.min_evals);
  p.set_max_evals(o.max_evals);
  p.set_max_n(o.max_n);
  p.set_pool(o.pool);
  p.set_all_tensors(o.all_tensors);
  p.set_fix_fingers(o.fix_fingers == FixFingers::kClipXmax ? v1::FIX_FINGERS_CLIP_XMAX
                                                           : v1::FIX_FINGERS_NONE);
  p.set_finger_thresh(o.finger_thresh);
  p.set_max_fingers(o.max_fingers);
  p.set_xmax_drop(o.xmax_drop);
  p.set_mp_fit(o.mp_fit);
  p.set_randomize(o.randomize);
  p.set_seed(o.seed);
  p.set_detx(o.detx);
  p.set_normalize(o.normalize);
  p.set_precision(o.precision == Precision::kF32 ? v1::PRECISION_F32 : v1::PRECISION_F64);
  p.set_reference_layer_set(o.reference_layer_set);
  p.set_fit(o.fit == FitType::kTruncatedPowerLaw ? v1::FIT_TYPE_TRUNCATED_POWER_LAW
            : o.fit == FitType::kExtendedTpl     ? v1::FIT_TYPE_EXTENDED_TPL
                                                 : v1::FIT_TYPE_POWER_LAW);
  return p;
}

absl::StatusOr<AnalysisOptions> FromProto(const v1::AnalysisOptions& p) {
  AnalysisOptions o;
  if (p.has_min_evals()) o.min_evals = p.min_evals();
  if (p.has_max_evals()) o.max_evals = p.max_evals();
  if (p.has_max_n()) o.max_n = p.max_n();
  if (p.has_pool()) o.pool = p.pool();
  if (p.has_all_tensors()) o.all_tensors = p.all_tensors();
  switch (p.fix_fingers()) {
    case v1::FIX_FINGERS_UNSPECIFIED:
    case v1::FIX_FINGERS_NONE:
      o.fix_fingers = FixFingers::kNone;
      break;
    case v1::FIX_FINGERS_CLIP_XMAX:
      o.fix_fingers = FixFingers::kClipXmax;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("options.fix_fingers: unknown value ", static_cast<int>(p.fix_fingers())));
  }
  if (p.has_finger_thresh()) o.finger_thresh = p.finger_thresh();
  if (p.has_max_fingers()) o.max_fingers = p.max_fingers();
  if (p.has_xmax_drop()) o.xmax_drop = p.xmax_drop();
  if (p.has_mp_fit()) o.mp_fit = p.mp_fit();
  if (p.has_randomize()) o.randomize = p.randomize();
  if (p.has_seed()) o.seed = p.seed();
  if (p.has_detx()) o.detx = p.detx();
  if (p.has_normalize()) o.normalize = p.normalize();
  if (p.has_reference_layer_set()) o.reference_layer_set = p.reference_layer_set();
  switch (p.fit()) {
    case v1::FIT_TYPE_UNSPECIFIED:
    case v1::FIT_TYPE_POWER_LAW:
      o.fit = FitType::kPowerLaw;
      break;
    case v1::FIT_TYPE_TRUNCATED_POWER_LAW:
      o.fit = FitType::kTruncatedPowerLaw;
      break;
    case v1::FIT_TYPE_EXTENDED_TPL:
      o.fit = FitType::kExtendedTpl;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("options.fit: unknown value ", static_cast<int>(p.fit())));
  }
  switch (p.precision()) {
    case v1::PRECISION_UNSPECIFIED:
    case v1::PRECISION_F64:
      o.precision = Precision::kF64;
      break;
    case v1::PRECISION_F32:
      o.precision = Precision::kF32;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("options.precision: unknown value ", static_cast<int>(p.precision())));
  }
  if (o.min_evals < 0 || o.max_evals < 0 || o.max_n < 0) {
    return absl::InvalidArgumentError("options: min_evals, max_evals and max_n must be >= 0");
  }
  if (o.fit != FitType::kPowerLaw && o.fix_fingers != FixFingers::kNone) {
    return absl::InvalidArgumentError("options: fix_fingers works with the power-law fit only");
  }
  if (o.max_fingers < 0 || o.xmax_drop < 0) {
    return absl::InvalidArgumentError("options: max_fingers and xmax_drop must be >= 0");
  }
  return o;
}

v1::TensorMeta ToProto(const TensorInfo& info) {
  v1::TensorMeta p;
  p.set_name(info.name);
  p.set_dtype(ToProto(info.dtype));
  for (int64_t d : info.shape) p.add_shape(d);
  if (info.low_rank > 0) {
    p.set_low_rank(info.low_rank);
    p.set_low_rank_scale(info.low_rank_scale);
    p.set_low_rank_fan_in_fan_out(info.low_rank_fan_in_fan_out);
  }
  return p;
}

absl::StatusOr<TensorInfo> FromProto(const v1::TensorMeta& p) {
  TensorInfo info;
  info.name = p.name();
  absl::StatusOr<DType> dtype = FromProto(p.dtype());
  if (!dtype.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", p.name(), "': ", dtype.status().message()));
  }
  info.dtype = *dtype;
  info.shape.assign(p.shape().begin(), p.shape().end());
  for (int64_t d : info.shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", p.name(), "': negative dimension ", d));
    }
  }
  if (p.low_rank() != 0) {
    // A LoRA update's factors: rank >= 1, an (out, in) shape, float32 bytes, a finite scale.
    if (p.low_rank() < 0 || info.shape.size() != 2 || info.dtype != DType::kF32 ||
        !std::isfinite(p.low_rank_scale())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", p.name(),
                       "': a LoRA update needs low_rank >= 1, a 2-d shape, dtype F32 "
                       "and a finite low_rank_scale"));
    }
    info.low_rank = p.low_rank();
    info.low_rank_scale = p.low_rank_scale();
    info.low_rank_fan_in_fan_out = p.low_rank_fan_in_fan_out();
    if (!info.DataBytes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", p.name(), "': LoRA factor size overflows"));
    }
  }
  return info;
}

void ToProto(const LayerPlan& plan, v1::LayerPlan* out) {
  out->set_layer_id(plan.layer_id);
  out->set_name(plan.name);
  out->set_type(ToProto(plan.type));
  out->set_rows(plan.rows);
  out->set_cols(plan.cols);
  out->set_n(plan.N);
  out->set_m(plan.M);
  out->set_rf(plan.rf);
  out->set_num_evals(plan.num_evals);
  out->set_analyse(plan.analyse);
  out->set_skip_reason(plan.skip_reason);
}

absl::StatusOr<LayerPlan> FromProto(const v1::LayerPlan& p) {
  LayerPlan plan;
  plan.layer_id = p.layer_id();
  plan.name = p.name();
  HTSR_ASSIGN_OR_RETURN(plan.type, LayerTypeFromProto(p.type()));
  plan.rows = p.rows();
  plan.cols = p.cols();
  plan.N = p.n();
  plan.M = p.m();
  plan.rf = p.rf();
  plan.num_evals = p.num_evals();
  plan.analyse = p.analyse();
  plan.skip_reason = p.skip_reason();
  return plan;
}

void ToProto(const LayerResult& r, v1::LayerResult* out) {
  ToProto(r.plan, out->mutable_plan());
  out->set_status(ToProto(r.status));
  out->set_warning(ToProto(r.warning));
  out->set_reason(r.reason);
  out->set_q(r.Q);
  out->set_norm(r.norm);
  out->set_log_norm(r.log_norm);
  out->set_spectral_norm(r.spectral_norm);
  out->set_log_spectral_norm(r.log_spectral_norm);
  out->set_alpha(r.alpha);
  out->set_alpha_weighted(r.alpha_weighted);
  out->set_log_alpha_norm(r.log_alpha_norm);
  out->set_d(r.D);
  out->set_sigma(r.sigma);
  out->set_xmin(r.xmin);
  out->set_xmax(r.xmax);
  out->set_num_pl_spikes(r.num_pl_spikes);
  out->set_stable_rank(r.stable_rank);
  out->set_matrix_rank(r.matrix_rank);
  out->set_entropy(r.entropy);
  out->set_sv_max(r.sv_max);
  out->set_sv_min(r.sv_min);
  out->set_rank_loss(r.rank_loss);
  out->set_weak_rank_loss(r.weak_rank_loss);
  out->set_has_esd(r.has_esd);

  SetIf(r.num_fingers, [&](int64_t v) { out->set_num_fingers(v); });
  SetIf(r.raw_alpha, [&](double v) { out->set_raw_alpha(v); });

  SetIf(r.num_spikes, [&](int64_t v) { out->set_num_spikes(v); });
  SetIf(r.sigma_mp, [&](double v) { out->set_sigma_mp(v); });
  SetIf(r.mp_softrank, [&](double v) { out->set_mp_softrank(v); });
  SetIf(r.bulk_min, [&](double v) { out->set_bulk_min(v); });
  SetIf(r.bulk_max, [&](double v) { out->set_bulk_max(v); });
  SetIf(r.W_scale, [&](double v) { out->set_w_scale(v); });

  SetIf(r.max_rand_eval, [&](double v) { out->set_max_rand_eval(v); });
  SetIf(r.rand_distance, [&](double v) { out->set_rand_distance(v); });
  SetIf(r.ww_softrank, [&](double v) { out->set_ww_softrank(v); });
  SetIf(r.rand_num_spikes, [&](int64_t v) { out->set_rand_num_spikes(v); });
  SetIf(r.rand_sigma_mp, [&](double v) { out->set_rand_sigma_mp(v); });
  SetIf(r.rand_mp_softrank, [&](double v) { out->set_rand_mp_softrank(v); });
  SetIf(r.rand_bulk_max, [&](double v) { out->set_rand_bulk_max(v); });
  SetIf(r.ww_maxdist, [&](double v) { out->set_ww_maxdist(v); });
  SetIf(r.num_traps, [&](int64_t v) { out->set_num_traps(v); });
  SetIf(r.rand_bulk_min, [&](double v) { out->set_rand_bulk_min(v); });
  SetIf(r.rand_W_scale, [&](double v) { out->set_rand_w_scale(v); });

  SetIf(r.detX_num, [&](int64_t v) { out->set_detx_num(v); });
  SetIf(r.detX_val, [&](double v) { out->set_detx_val(v); });
  SetIf(r.detX_val_unrescaled, [&](double v) { out->set_detx_val_unrescaled(v); });
  SetIf(r.num_ERG_spikes, [&](int64_t v) { out->set_num_erg_spikes(v); });
  SetIf(r.ERG_gap, [&](double v) { out->set_erg_gap(v); });
  SetIf(r.slice_id, [&](int64_t v) { out->set_slice_id(v); });
  SetIf(r.Lambda, [&](double v) { out->set_lambda(v); });
  SetIf(r.tpl_R, [&](double v) { out->set_tpl_r(v); });
  SetIf(r.tpl_p, [&](double v) { out->set_tpl_p(v); });

  out->mutable_evals()->Assign(r.evals.begin(), r.evals.end());
  out->set_seconds(r.seconds);
}

absl::StatusOr<LayerResult> FromProto(const v1::LayerResult& p) {
  LayerResult r;
  HTSR_ASSIGN_OR_RETURN(r.plan, FromProto(p.plan()));
  HTSR_ASSIGN_OR_RETURN(r.status, LayerStatusFromProto(p.status()));
  HTSR_ASSIGN_OR_RETURN(r.warning, LayerWarningFromProto(p.warning()));
  r.reason = p.reason();
  r.Q = p.q();
  r.norm = p.norm();
  r.log_norm = p.log_norm();
  r.spectral_norm = p.spectral_norm();
  r.log_spectral_norm = p.log_spectral_norm();
  r.alpha = p.alpha();
  r.alpha_weighted = p.alpha_weighted();
  r.log_alpha_norm = p.log_alpha_norm();
  r.D = p.d();
  r.sigma = p.sigma();
  r.xmin = p.xmin();
  r.xmax = p.xmax();
  r.num_pl_spikes = p.num_pl_spikes();
  r.stable_rank = p.stable_rank();
  r.matrix_rank = p.matrix_rank();
  r.entropy = p.entropy();
  r.sv_max = p.sv_max();
  r.sv_min = p.sv_min();
  r.rank_loss = p.rank_loss();
  r.weak_rank_loss = p.weak_rank_loss();
  r.has_esd = p.has_esd();

  if (p.has_num_fingers()) r.num_fingers = p.num_fingers();
  if (p.has_raw_alpha()) r.raw_alpha = p.raw_alpha();

  if (p.has_num_spikes()) r.num_spikes = p.num_spikes();
  if (p.has_sigma_mp()) r.sigma_mp = p.sigma_mp();
  if (p.has_mp_softrank()) r.mp_softrank = p.mp_softrank();
  if (p.has_bulk_min()) r.bulk_min = p.bulk_min();
  if (p.has_bulk_max()) r.bulk_max = p.bulk_max();
  if (p.has_w_scale()) r.W_scale = p.w_scale();

  if (p.has_max_rand_eval()) r.max_rand_eval = p.max_rand_eval();
  if (p.has_rand_distance()) r.rand_distance = p.rand_distance();
  if (p.has_ww_softrank()) r.ww_softrank = p.ww_softrank();
  if (p.has_rand_num_spikes()) r.rand_num_spikes = p.rand_num_spikes();
  if (p.has_rand_sigma_mp()) r.rand_sigma_mp = p.rand_sigma_mp();
  if (p.has_rand_mp_softrank()) r.rand_mp_softrank = p.rand_mp_softrank();
  if (p.has_rand_bulk_max()) r.rand_bulk_max = p.rand_bulk_max();
  if (p.has_ww_maxdist()) r.ww_maxdist = p.ww_maxdist();
  if (p.has_num_traps()) r.num_traps = p.num_traps();
  if (p.has_rand_bulk_min()) r.rand_bulk_min = p.rand_bulk_min();
  if (p.has_rand_w_scale()) r.rand_W_scale = p.rand_w_scale();

  if (p.has_detx_num()) r.detX_num = p.detx_num();
  if (p.has_detx_val()) r.detX_val = p.detx_val();
  if (p.has_detx_val_unrescaled()) r.detX_val_unrescaled = p.detx_val_unrescaled();
  if (p.has_num_erg_spikes()) r.num_ERG_spikes = p.num_erg_spikes();
  if (p.has_erg_gap()) r.ERG_gap = p.erg_gap();
  if (p.has_slice_id()) r.slice_id = p.slice_id();
  if (p.has_lambda()) r.Lambda = p.lambda();
  if (p.has_tpl_r()) r.tpl_R = p.tpl_r();
  if (p.has_tpl_p()) r.tpl_p = p.tpl_p();

  r.evals.assign(p.evals().begin(), p.evals().end());
  r.seconds = p.seconds();
  return r;
}

void ToProto(const ModelSummary& s, v1::ModelSummary* out) {
  out->set_num_layers(s.num_layers);
  out->set_num_analyzed(s.num_analyzed);
  out->set_num_skipped(s.num_skipped);
  out->set_num_failed(s.num_failed);
  out->set_num_under_trained(s.num_under_trained);
  out->set_num_over_trained(s.num_over_trained);
  out->set_log_norm(s.log_norm);
  out->set_alpha(s.alpha);
  out->set_alpha_weighted(s.alpha_weighted);
  out->set_log_alpha_norm(s.log_alpha_norm);
  out->set_log_spectral_norm(s.log_spectral_norm);
  out->set_stable_rank(s.stable_rank);
  if (s.mp_softrank.has_value()) out->set_mp_softrank(*s.mp_softrank);
}

ModelSummary FromProto(const v1::ModelSummary& p) {
  ModelSummary s;
  s.num_layers = p.num_layers();
  s.num_analyzed = p.num_analyzed();
  s.num_skipped = p.num_skipped();
  s.num_failed = p.num_failed();
  s.num_under_trained = p.num_under_trained();
  s.num_over_trained = p.num_over_trained();
  s.log_norm = p.log_norm();
  s.alpha = p.alpha();
  s.alpha_weighted = p.alpha_weighted();
  s.log_alpha_norm = p.log_alpha_norm();
  s.log_spectral_norm = p.log_spectral_norm();
  s.stable_rank = p.stable_rank();
  if (p.has_mp_softrank()) s.mp_softrank = p.mp_softrank();
  return s;
}

}  // namespace htsr
