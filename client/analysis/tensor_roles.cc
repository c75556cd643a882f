#include "analysis/tensor_roles.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "htsr/dtype.h"
#include "htsr/engine.h"

namespace htsr::analysis {

std::vector<NonLayerTensor> TensorsNotLayers(const std::vector<TensorInfo>& tensors,
                                             const AnalysisOptions& options) {
  std::vector<size_t> planned;
  PlanModel(tensors, options, &planned);
  const bool any_weight = std::any_of(tensors.begin(), tensors.end(), [](const TensorInfo& t) {
    return absl::EndsWith(t.name, ".weight");
  });
  std::vector<NonLayerTensor> out;
  size_t next = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (next < planned.size() && planned[next] == i) {
      ++next;
      continue;
    }
    const TensorInfo& t = tensors[i];
    const size_t rank = t.shape.size();
    std::string reason;
    if (!IsFloating(t.dtype)) {
      reason = absl::StrCat(std::string(DTypeName(t.dtype)),
                            " dtype: not floating point (an index, a mask "
                            "or a quantized tensor)");
    } else if (rank == 0) {
      reason = "a scalar";
    } else if (rank == 1) {
      reason = "1-D (a bias, a norm scale or a vector): no matrix";
    } else if (rank > 4 && !options.all_tensors) {
      reason = absl::StrCat(rank, "-D: more than 4 dimensions");
    } else if (any_weight && absl::EndsWith(t.name, ".bias")) {
      reason = "a bias";
    } else if (any_weight && !absl::EndsWith(t.name, ".weight")) {
      reason = "name does not end in '.weight' (--all-tensors analyses it)";
    } else if (!any_weight && absl::EndsWith(t.name, ".bias")) {
      reason = "a bias";
    } else {
      reason = "not a layer candidate";
    }
    out.push_back({i, std::move(reason)});
  }
  return out;
}

}  // namespace htsr::analysis
