// Why a tensor of a checkpoint is not a layer: the tensors PlanModel leaves out (integer
// dtypes, 1-D biases and norm scales, names that do not end in ".weight", ...). `describe`
// names each with its reason, so that a model with "0 layers" says why.
#ifndef HTSR_CLIENT_ANALYSIS_TENSOR_ROLES_H_
#define HTSR_CLIENT_ANALYSIS_TENSOR_ROLES_H_

#include <string>
#include <vector>

#include "htsr/options.h"
#include "htsr/tensor.h"

namespace htsr::analysis {

struct NonLayerTensor {
  size_t index = 0;  // into the tensor list
  std::string reason;
};

// Every tensor PlanModel does not plan as a layer, in file order, with the reason.
std::vector<NonLayerTensor> TensorsNotLayers(const std::vector<TensorInfo>& tensors,
                                             const AnalysisOptions& options);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_TENSOR_ROLES_H_
