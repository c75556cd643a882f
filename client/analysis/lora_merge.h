// `analyze ADAPTER --base BASE` for a PEFT LoRA adapter: which base weight each adapted module
// updates, and the merged weight W + s B A that the adapter and its base make together
// (docs/spec.md §1c). The update's own rows come from the r x r problem as without a base;
// the merged weights feed the delta_* columns and the distances.
#ifndef HTSR_CLIENT_ANALYSIS_LORA_MERGE_H_
#define HTSR_CLIENT_ANALYSIS_LORA_MERGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/base_delta.h"
#include "htsr/engine.h"
#include "htsr/tensor.h"
#include "readers/checkpoint_reader.h"

namespace htsr::analysis {

// Whether the checkpoint holds LoRA updates (factor pairs) rather than stored matrices.
bool HoldsLowRankUpdates(const std::vector<TensorInfo>& tensors);

// The base tensor a LoRA update applies to: the module's name without PEFT's wrapper prefix
// "base_model.model.", plus ".weight" (PEFT saves `base_model.model.<module>.lora_A.weight`
// for the base's `<module>.weight`). Empty for a tensor that is not a LoRA update.
std::string LoraBaseTensorName(const TensorInfo& update);

// Pairs every update with its base weight: same name (above), the shape the update has
// (out, in), or (in, out) with fan_in_fan_out, and a floating dtype. Anything else is a reason
// naming the tensor looked for. base_only stays empty: a base holds many weights no adapter
// touches, which are not worth a line each (the caller counts them).
BasePairing PairUpdatesWithBase(const std::vector<TensorInfo>& updates,
                                const std::vector<TensorInfo>& base);

// A TensorSource whose tensor i is the merged weight W_base + s B A of update i (float32, the
// base's layout and shape, summed in float64 and rounded once), and which records the layer's
// distances between the merged weight and W_base: dist_frobenius = ||s B A||_F exactly from the
// factors (not from a float32 difference), dist_relative over ||W_base||_F, dist_euclidean =
// dist_frobenius (a dense layer is one slice), dist_cka of the two float32 matrices. Loading
// an unpaired update is an error naming it. Both readers must outlive the source.
DeltaSource MakeMergedSource(const CheckpointReader& adapter, const CheckpointReader& base,
                             const BasePairing& pairing);

// ||s B A||_F from the factors (A: r x in, B: out x r, row-major float32), in float64 without
// forming B A: sqrt(s^2 sum_ij (B^T B)_ij (A A^T)_ij).
double LowRankFrobenius(const float* a, const float* b, int64_t r, int64_t in, int64_t out,
                        double scale);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_LORA_MERGE_H_
