#include "output/result_columns.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace htsr::output {
namespace {

bool HasMetrics(const LayerResult& r) { return r.status != LayerStatus::kSkipped; }

template <typename T>
Cell Opt(const std::optional<T>& v) {
  if (!v) return std::monostate{};
  return Cell(*v);
}

// Metric columns are empty for skipped layers (nothing was computed).
#define HTSR_METRIC(col, expr)                         \
  Column {                                             \
    col,                                               \
        [](const LayerResult& r) -> Cell {             \
          if (!HasMetrics(r)) return std::monostate{}; \
          return Cell(expr);                           \
        },                                             \
        false                                          \
  }
#define HTSR_ID(col, expr)                                              \
  Column {                                                              \
    col, [](const LayerResult& r) -> Cell { return Cell(expr); }, false \
  }
#define HTSR_OPT(col, field)                                             \
  Column {                                                               \
    col, [](const LayerResult& r) -> Cell { return Opt(r.field); }, true \
  }

std::vector<Column> MakeColumns() {
  std::vector<Column> cols = {
      HTSR_ID("layer_id", static_cast<int64_t>(r.plan.layer_id)),
      HTSR_ID("name", r.plan.name),
      HTSR_METRIC("D", r.D),
      HTSR_OPT("ERG_gap", ERG_gap),
      HTSR_OPT("Lambda", Lambda),
      HTSR_ID("M", r.plan.M),
      HTSR_ID("N", r.plan.N),
      HTSR_ID("Q",
              r.plan.M > 0 ? static_cast<double>(r.plan.N) / static_cast<double>(r.plan.M) : 0.0),
      HTSR_OPT("W_scale", W_scale),
      HTSR_METRIC("alpha", r.alpha),
      HTSR_METRIC("alpha_weighted", r.alpha_weighted),
      HTSR_OPT("bulk_max", bulk_max),
      HTSR_OPT("bulk_min", bulk_min),
      HTSR_OPT("delta_alpha", delta_alpha),
      HTSR_OPT("delta_log_norm", delta_log_norm),
      HTSR_OPT("delta_log_spectral_norm", delta_log_spectral_norm),
      HTSR_OPT("detX_num", detX_num),
      HTSR_OPT("detX_val", detX_val),
      HTSR_OPT("detX_val_unrescaled", detX_val_unrescaled),
      HTSR_OPT("dist_cka", dist_cka),
      HTSR_OPT("dist_euclidean", dist_euclidean),
      HTSR_OPT("dist_frobenius", dist_frobenius),
      HTSR_OPT("dist_relative", dist_relative),
      HTSR_METRIC("entropy", r.entropy),
      HTSR_ID("has_esd", r.has_esd),
      HTSR_METRIC("lambda_max", r.spectral_norm),
      HTSR_ID("layer_type", std::string(LayerTypeName(r.plan.type))),
      HTSR_METRIC("log_alpha_norm", r.log_alpha_norm),
      HTSR_METRIC("log_norm", r.log_norm),
      HTSR_METRIC("log_spectral_norm", r.log_spectral_norm),
      HTSR_ID("longname", r.plan.name),
      HTSR_METRIC("matrix_rank", r.matrix_rank),
      HTSR_OPT("max_rand_eval", max_rand_eval),
      HTSR_OPT("mp_softrank", mp_softrank),
      HTSR_METRIC("norm", r.norm),
      HTSR_OPT("num_ERG_spikes", num_ERG_spikes),
      HTSR_ID("num_evals", r.plan.num_evals),
      HTSR_OPT("num_fingers", num_fingers),
      HTSR_METRIC("num_pl_spikes", r.num_pl_spikes),
      HTSR_OPT("num_spikes", num_spikes),
      HTSR_OPT("num_traps", num_traps),
      HTSR_OPT("rand_W_scale", rand_W_scale),
      HTSR_OPT("rand_bulk_max", rand_bulk_max),
      HTSR_OPT("rand_bulk_min", rand_bulk_min),
      HTSR_OPT("rand_distance", rand_distance),
      HTSR_OPT("rand_mp_softrank", rand_mp_softrank),
      HTSR_OPT("rand_num_spikes", rand_num_spikes),
      HTSR_OPT("rand_sigma_mp", rand_sigma_mp),
      HTSR_METRIC("rank_loss", r.rank_loss),
      HTSR_OPT("raw_alpha", raw_alpha),
      HTSR_ID("rf", r.plan.rf),
      HTSR_METRIC("sigma", r.sigma),
      HTSR_OPT("sigma_mp", sigma_mp),
      HTSR_METRIC("spectral_norm", r.spectral_norm),
      HTSR_METRIC("stable_rank", r.stable_rank),
      HTSR_ID("status", std::string(LayerStatusName(r.status))),
      HTSR_METRIC("sv_max", r.sv_max),
      HTSR_METRIC("sv_min", r.sv_min),
      // Ours (fit = tpl | e_tpl): PL vs TPL likelihood-ratio test.
      HTSR_OPT("tpl_R", tpl_R),
      HTSR_OPT("tpl_p", tpl_p),
      HTSR_ID("warning", std::string(LayerWarningName(r.warning))),
      HTSR_METRIC("weak_rank_loss", r.weak_rank_loss),
      HTSR_OPT("ww_maxdist", ww_maxdist),
      HTSR_OPT("ww_softrank", ww_softrank),
      HTSR_METRIC("xmax", r.xmax),
      HTSR_METRIC("xmin", r.xmin),
      // Ours: why a layer was skipped or failed (the reference has no such column).
      HTSR_ID("reason", r.reason),
  };
  return cols;
}

#undef HTSR_METRIC
#undef HTSR_ID
#undef HTSR_OPT

}  // namespace

const std::vector<Column>& AllColumns() {
  static const std::vector<Column>* cols = new std::vector<Column>(MakeColumns());
  return *cols;
}

std::vector<const Column*> ColumnsFor(const std::vector<LayerResult>& rows) {
  std::vector<const Column*> out;
  for (const Column& c : AllColumns()) {
    bool show = !c.optional;
    for (size_t i = 0; !show && i < rows.size(); ++i) {
      show = !std::holds_alternative<std::monostate>(c.get(rows[i]));
    }
    if (show) out.push_back(&c);
  }
  return out;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  // Try increasing precision until the text reads back exactly: short where possible,
  // lossless always.
  for (int prec = 15; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace htsr::output
