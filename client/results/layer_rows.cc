#include "results/layer_rows.h"

#include <cmath>
#include <optional>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "htsr/thresholds.h"
#include "output/summary_fields.h"
#include "results/csv_table.h"

namespace htsr::results {
namespace {

using DoubleField = double LayerResult::*;
using OptDoubleField = std::optional<double> LayerResult::*;
using IntField = int64_t LayerResult::*;
using OptIntField = std::optional<int64_t> LayerResult::*;
using Target = std::variant<DoubleField, OptDoubleField, IntField, OptIntField>;

struct NumericColumn {
  absl::string_view name;
  Target target;
};

// Metric columns: our names (= weightwatcher 0.7.x), then 0.2.x spellings.
const NumericColumn kNumeric[] = {
    {"alpha", &LayerResult::alpha},
    {"alpha_weighted", &LayerResult::alpha_weighted},
    {"log_alpha_norm", &LayerResult::log_alpha_norm},
    {"norm", &LayerResult::norm},
    {"log_norm", &LayerResult::log_norm},
    {"spectral_norm", &LayerResult::spectral_norm},
    {"lambda_max", &LayerResult::spectral_norm},
    {"log_spectral_norm", &LayerResult::log_spectral_norm},
    {"stable_rank", &LayerResult::stable_rank},
    {"D", &LayerResult::D},
    {"sigma", &LayerResult::sigma},
    {"xmin", &LayerResult::xmin},
    {"xmax", &LayerResult::xmax},
    {"entropy", &LayerResult::entropy},
    {"sv_max", &LayerResult::sv_max},
    {"sv_min", &LayerResult::sv_min},
    {"Q", &LayerResult::Q},
    {"num_pl_spikes", &LayerResult::num_pl_spikes},
    {"matrix_rank", &LayerResult::matrix_rank},
    {"rank_loss", &LayerResult::rank_loss},
    {"weak_rank_loss", &LayerResult::weak_rank_loss},
    {"num_fingers", &LayerResult::num_fingers},
    {"raw_alpha", &LayerResult::raw_alpha},
    {"Lambda", &LayerResult::Lambda},
    {"tpl_R", &LayerResult::tpl_R},
    {"tpl_p", &LayerResult::tpl_p},
    {"num_spikes", &LayerResult::num_spikes},
    {"numofSpikes", &LayerResult::num_spikes},
    {"sigma_mp", &LayerResult::sigma_mp},
    {"mp_softrank", &LayerResult::mp_softrank},
    {"bulk_min", &LayerResult::bulk_min},
    {"bulk_max", &LayerResult::bulk_max},
    {"W_scale", &LayerResult::W_scale},
    {"max_rand_eval", &LayerResult::max_rand_eval},
    {"rand_distance", &LayerResult::rand_distance},
    {"ww_softrank", &LayerResult::ww_softrank},
    {"ww_maxdist", &LayerResult::ww_maxdist},
    {"rand_num_spikes", &LayerResult::rand_num_spikes},
    {"num_traps", &LayerResult::num_traps},
    {"rand_sigma_mp", &LayerResult::rand_sigma_mp},
    {"rand_mp_softrank", &LayerResult::rand_mp_softrank},
    {"rand_bulk_max", &LayerResult::rand_bulk_max},
    {"rand_bulk_min", &LayerResult::rand_bulk_min},
    {"rand_W_scale", &LayerResult::rand_W_scale},
    {"detX_num", &LayerResult::detX_num},
    {"detX_val", &LayerResult::detX_val},
};

absl::Status BadCell(absl::string_view col, absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("column '", col, "': '", text, "' is not a number"));
}

absl::Status SetNumeric(LayerResult& r, const NumericColumn& c, absl::string_view text) {
  const std::optional<double> v = ParseNumber(text);
  if (!v) {
    // Empty cells mean "not computed" (optional analyses, skipped layers).
    if (absl::StripAsciiWhitespace(text).empty()) return absl::OkStatus();
    return BadCell(c.name, text);
  }
  if (auto* d = std::get_if<DoubleField>(&c.target)) {
    r.*(*d) = *v;
  } else if (auto* od = std::get_if<OptDoubleField>(&c.target)) {
    r.*(*od) = *v;
  } else {
    // Integer columns: pandas may write them as floats ("20.0"); refuse fractions and
    // values that do not fit.
    if (!std::isfinite(*v) || *v != std::floor(*v) || std::fabs(*v) > 9.0e15) {
      return BadCell(c.name, text);
    }
    const auto i = static_cast<int64_t>(*v);
    if (auto* f = std::get_if<IntField>(&c.target)) {
      r.*(*f) = i;
    } else {
      r.*std::get<OptIntField>(c.target) = i;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> IntCell(absl::string_view col, absl::string_view text) {
  const std::optional<double> v = ParseNumber(text);
  if (!v || !std::isfinite(*v) || *v != std::floor(*v) || std::fabs(*v) > 9.0e15) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", col, "': '", text, "' is not an integer"));
  }
  return static_cast<int64_t>(*v);
}

std::optional<LayerType> ParseLayerType(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  // weightwatcher writes "LAYER_TYPE.CONV2D" or "CONV2D".
  if (const size_t dot = t.rfind('.'); dot != std::string::npos) t = t.substr(dot + 1);
  if (t == "dense" || t == "linear" || t == "embedding") return LayerType::kDense;
  if (t == "conv2d") return LayerType::kConv2d;
  if (t == "conv1d") return LayerType::kConv1d;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<LayerResult> LayerFromCells(
    const std::vector<std::pair<absl::string_view, absl::string_view>>& cells) {
  LayerResult r;
  std::optional<std::string> status;
  for (const auto& [col, text] : cells) {
    bool done = false;
    for (const NumericColumn& c : kNumeric) {
      if (c.name == col) {
        if (auto s = SetNumeric(r, c, text); !s.ok()) return s;
        done = true;
        break;
      }
    }
    if (done) continue;
    if (col == "layer_id") {
      auto id = IntCell(col, text);
      if (!id.ok()) return id.status();
      if (*id < -1 || *id > (int64_t{1} << 30)) {
        return absl::InvalidArgumentError(
            absl::StrCat("column 'layer_id': ", *id, " out of range"));
      }
      r.plan.layer_id = static_cast<int>(*id);
    } else if (col == "N" || col == "M" || col == "rf" || col == "num_evals") {
      if (absl::StripAsciiWhitespace(text).empty()) continue;
      auto v = IntCell(col, text);
      if (!v.ok()) return v.status();
      if (col == "N") r.plan.N = *v;
      if (col == "M") r.plan.M = *v;
      if (col == "rf") r.plan.rf = *v;
      if (col == "num_evals") r.plan.num_evals = *v;
    } else if (col == "name" || (col == "longname" && r.plan.name.empty())) {
      r.plan.name = std::string(text);
      r.plan.tensor_name = r.plan.name;
    } else if (col == "layer_type") {
      if (auto t = ParseLayerType(text)) r.plan.type = *t;
    } else if (col == "status") {
      status = std::string(absl::StripAsciiWhitespace(text));
    } else if (col == "reason") {
      r.reason = std::string(text);
    }
  }
  if (r.plan.name.empty()) r.plan.name = absl::StrCat("layer ", r.plan.layer_id);
  if (r.plan.num_evals == 0) r.plan.num_evals = r.plan.M * r.plan.rf;
  if (status) {
    if (*status == "success") {
      r.status = LayerStatus::kSuccess;
    } else if (*status == "skipped") {
      r.status = LayerStatus::kSkipped;
    } else if (*status == "failed") {
      r.status = LayerStatus::kFailed;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("column 'status': unknown '", *status, "'"));
    }
  } else if (!std::isfinite(r.alpha) || r.alpha < 0) {
    // weightwatcher marks a failed fit with alpha = -1 and has no status column.
    r.status = LayerStatus::kFailed;
    r.reason = "the power-law fit failed (alpha = -1 in the input)";
  }
  r.plan.analyse = r.status != LayerStatus::kSkipped;
  if (r.status == LayerStatus::kFailed) {
    r.warning = LayerWarning::kFailed;
  } else if (r.status == LayerStatus::kSuccess) {
    // Derived from alpha with docs/spec.md §3's thresholds; an input's own column is not trusted to
    // use the same ones (weightwatcher labels failed fits "over-trained").
    r.warning = r.alpha < kAlphaOverTrained    ? LayerWarning::kOverTrained
                : r.alpha > kAlphaUnderTrained ? LayerWarning::kUnderTrained
                                               : LayerWarning::kNone;
  }
  return r;
}

void AddSummaryMetrics(const ModelSummary& summary, model::ModelRecord& record) {
  // An empty model (no layer analysed) has no means: its metrics stay absent, so rankings
  // and regressions leave it out instead of reading 0.
  for (const output::SummaryField& f : output::SummaryFields(summary)) {
    if (std::isfinite(f.value)) record.SetMetric(std::string(f.name), f.value);
  }
  if (!output::HasSummaryValues(summary)) return;
  record.SetMetric("lognorm", summary.log_norm);
  record.SetMetric("logspectralnorm", summary.log_spectral_norm);
  record.SetMetric("logpnorm", summary.log_alpha_norm);
}

}  // namespace htsr::results
