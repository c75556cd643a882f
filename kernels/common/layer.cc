// Layer classification from tensor metadata (docs/spec.md §1) and the size filter.
#include "htsr/layer.h"

#include <algorithm>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace htsr {

std::string_view LayerTypeName(LayerType t) {
  switch (t) {
    case LayerType::kDense:
      return "dense";
    case LayerType::kConv1d:
      return "conv1d";
    case LayerType::kConv2d:
      return "conv2d";
  }
  return "?";
}

std::string_view LayerStatusName(LayerStatus s) {
  switch (s) {
    case LayerStatus::kSuccess:
      return "success";
    case LayerStatus::kSkipped:
      return "skipped";
    case LayerStatus::kFailed:
      return "failed";
  }
  return "?";
}

std::string_view LayerWarningName(LayerWarning w) {
  switch (w) {
    case LayerWarning::kNone:
      return "";
    case LayerWarning::kOverTrained:
      return "over-trained";
    case LayerWarning::kUnderTrained:
      return "under-trained";
    case LayerWarning::kFailed:
      return "failed";
  }
  return "?";
}

bool IsLayerCandidate(const TensorInfo& info, const AnalysisOptions& options) {
  if (!IsFloating(info.dtype)) return false;
  const size_t rank = info.shape.size();
  if (options.all_tensors) return rank >= 2;
  return rank >= 2 && rank <= 4 && absl::EndsWith(info.name, ".weight");
}

namespace {

LayerPlan NotAnalysed(LayerPlan plan, std::string reason) {
  plan.analyse = false;
  plan.skip_reason = std::move(reason);
  return plan;
}

}  // namespace

ReferenceShape ReferenceConv2dShape(int64_t out, int64_t in, int64_t kh, int64_t kw) {
  // weightwatcher 0.7.7 conv2D_Wmats on a state dict (channels LAST): N, M = out, in, then
  // N and M are exchanged once per slice whose matrix is wide (out < in), kh*kw times in
  // all: an odd count leaves them exchanged (N = in = max, right), an even count restores
  // out, in (N = min, M = max: the quirk). With out + in < kh + kw it guesses "channels
  // first", flips twice and ends with N, M = out, in as well.
  const int64_t rf = kh * kw;
  if (out + in >= kh + kw && !(out < in && rf % 2 == 0)) {
    return {std::max(out, in), std::min(out, in)};
  }
  return {out, in};
}

LayerPlan PlanLayer(const TensorInfo& info, int layer_id, const AnalysisOptions& options) {
  LayerPlan plan;
  plan.layer_id = layer_id;
  // The reference names a layer after its module: the tensor name without ".weight".
  plan.tensor_name = info.name;
  plan.name = info.name;
  if (absl::EndsWith(plan.name, ".weight")) plan.name.resize(plan.name.size() - 7);
  const std::string shape_str = absl::StrCat("[", absl::StrJoin(info.shape, ", "), "]");

  const size_t rank = info.shape.size();
  if (rank < 2 || rank > 4) {
    // Only reachable with all_tensors: rank > 4 has no matrix interpretation here.
    return NotAnalysed(std::move(plan),
                       absl::StrCat("unsupported rank ", rank, " shape ", shape_str));
  }
  for (int64_t d : info.shape) {
    if (d <= 0) {
      return NotAnalysed(std::move(plan), absl::StrCat("empty or invalid shape ", shape_str));
    }
  }
  if (!info.NumElements().has_value()) {
    return NotAnalysed(std::move(plan), absl::StrCat("shape ", shape_str, " overflows"));
  }

  plan.rows = info.shape[0];
  plan.cols = info.shape[1];
  if (rank == 2) {
    plan.type = LayerType::kDense;
    plan.rf = 1;
  } else if (rank == 3) {
    plan.type = LayerType::kConv1d;
    plan.rf = info.shape[2];
  } else {
    plan.type = LayerType::kConv2d;
    plan.rf = info.shape[2] * info.shape[3];  // no overflow: NumElements succeeded
  }
  plan.N = std::max(plan.rows, plan.cols);
  plan.M = std::min(plan.rows, plan.cols);
  plan.num_evals = plan.M * plan.rf;
  if (info.low_rank > 0) {
    // A LoRA update: the reference (peft=True) reports its r nonzero eigenvalues only and
    // filters on r (its lora_A layer's M), so a rank-4 adapter is below min_evals 8.
    if (rank != 2 || info.low_rank > plan.M) {
      return NotAnalysed(std::move(plan), absl::StrCat("low-rank factors of rank ", info.low_rank,
                                                       " do not fit shape ", shape_str));
    }
    plan.num_evals = info.low_rank;
    if (options.min_evals > 0 && plan.num_evals < options.min_evals) {
      return NotAnalysed(std::move(plan), absl::StrCat("num_evals (LoRA rank) ", plan.num_evals,
                                                       " < min_evals ", options.min_evals));
    }
    if (options.max_evals > 0 && plan.num_evals > options.max_evals) {
      return NotAnalysed(std::move(plan), absl::StrCat("num_evals (LoRA rank) ", plan.num_evals,
                                                       " > max_evals ", options.max_evals));
    }
    if (plan.N > options.max_n) {
      return NotAnalysed(std::move(plan), absl::StrCat("N ", plan.N, " > max_N ", options.max_n));
    }
    return plan;
  }

  // The reference's layer set: which N and M its size filter sees (ReferenceFilterShape).
  int64_t filter_n = plan.N, filter_m = plan.M;
  if (options.reference_layer_set) {
    if (plan.rows < 2) {
      return NotAnalysed(std::move(plan),
                         absl::StrCat("first dimension ", plan.rows,
                                      " < 2: not analysed by the reference (reference layer set)"));
    }
    if (plan.type == LayerType::kConv1d) {
      return NotAnalysed(std::move(plan),
                         "3-D tensor: not analysed by the reference (reference layer set)");
    }
    if (plan.type == LayerType::kConv2d) {
      const ReferenceShape ref =
          ReferenceConv2dShape(plan.rows, plan.cols, info.shape[2], info.shape[3]);
      filter_n = ref.N;
      filter_m = ref.M;
    }
  }

  // Same order of checks as the reference's layer_supported(). Without pooling each slice
  // is its own spectrum of M values, so the filter applies to M.
  const int64_t evals = options.pool ? filter_m * plan.rf : filter_m;
  const char* whose =
      filter_m != plan.M || filter_n != plan.N ? " (the reference's exchanged N/M)" : "";
  if (options.min_evals > 0 && evals < options.min_evals) {
    return NotAnalysed(std::move(plan), absl::StrCat("num_evals ", evals, " < min_evals ",
                                                     options.min_evals, whose));
  }
  if (options.max_evals > 0 && evals > options.max_evals) {
    return NotAnalysed(std::move(plan), absl::StrCat("num_evals ", evals, " > max_evals ",
                                                     options.max_evals, whose));
  }
  if (filter_n > options.max_n) {
    return NotAnalysed(std::move(plan),
                       absl::StrCat("N ", filter_n, " > max_N ", options.max_n, whose));
  }
  return plan;
}

}  // namespace htsr
