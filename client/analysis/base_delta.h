// `analyze MODEL --base BASE`: the analysis of W - W_base for every layer the two
// checkpoints share (same tensor name, same shape), with per-layer distances and the
// differences of the two models' own metrics. Layers without a partner are rows with status
// skipped and a reason, and a note, never dropped (docs/compatibility.md, "base_model").
#ifndef HTSR_CLIENT_ANALYSIS_BASE_DELTA_H_
#define HTSR_CLIENT_ANALYSIS_BASE_DELTA_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analysis/model_analysis.h"
#include "htsr/engine.h"
#include "htsr/layer.h"
#include "model/model_report.h"
#include "readers/checkpoint_reader.h"

namespace htsr::analysis {

// `status` about the base checkpoint, said to be the base's ("base model PATH: ...").
absl::Status BaseModelError(const absl::Status& status, const std::string& base_path);

// A tensor's values as float32 (the reference converts both sides first); an error naming the
// tensor for a wrong byte count or a dtype that is not floating.
absl::StatusOr<std::vector<float>> TensorToFloat32(const TensorView& t);

// Distances between one layer's W and W_base, in float64 from their float32 values.
struct LayerDistances {
  double frobenius = 0;       // ||W - W_base||_F
  double relative = 0;        // frobenius / ||W_base||_F (inf when W_base = 0 and W != W_base)
  double euclidean = 0;       // the reference's: mean over its matrix slices of ||W_i - Wb_i||_F
  std::optional<double> cka;  // the reference's uncentred CKA, mean over slices
};

// The distances of two float32 tensors of `shape` (row-major), sliced as the reference
// slices them (dense: the matrix as stored; conv2d (out, in, kh, kw): kh*kw matrices W[:,:,i,j],
// transposed when out < in). cka is nullopt for other ranks.
LayerDistances ComputeDistances(const std::vector<int64_t>& shape, const float* w,
                                const float* w_base);

// Which tensors of the model have a partner in the base.
struct BasePairing {
  std::vector<std::optional<size_t>> base_index;  // per model tensor; nullopt = unmatched
  std::vector<std::string> reason;                // per model tensor, why unmatched
  std::vector<std::string> base_only;             // base tensor names the model lacks
};
BasePairing PairWithBase(const std::vector<TensorInfo>& model, const std::vector<TensorInfo>& base);

// A TensorSource over the model's tensors whose load(i) returns W - W_base in float32 (both
// converted to float32 first, as the reference does), one layer at a time, and records the
// layer's distances in `*distances` (indexed by tensor, guarded by the source itself). Loading
// an unmatched tensor is an error naming it. Both readers must outlive the source.
struct DeltaSource {
  TensorSource source;
  std::shared_ptr<std::vector<std::optional<LayerDistances>>> distances;
};
DeltaSource MakeDeltaSource(const CheckpointReader& model, const CheckpointReader& base,
                            const BasePairing& pairing);

// Runs the engine over a source: AnalyzeModel in-process, or remote calls (the same rows).
// An error fails the whole checkpoint.
using LayerRunner = std::function<absl::StatusOr<std::vector<LayerResult>>(
    const TensorSource& source, const ModelCallbacks& callbacks)>;

// Analyses `path` against `base_path` with `run`: three passes, each one layer at a time,
// never a whole model in memory: W - W_base (the rows, distances on the way), then W and
// W_base alone for the delta_* columns. Fails when either checkpoint cannot be opened (the
// message names which); bad or unmatched layers become failed or skipped rows.
// report.backend is left to the caller.
absl::StatusOr<model::ModelReport> AnalyzeAgainstBase(const std::string& path,
                                                      const std::string& base_path,
                                                      const AnalysisOptions& analysis,
                                                      const LayerRunner& run,
                                                      const ModelAnalysisOptions& options);

// The same on two open readers (checkpoints, or tensors a caller holds, e.g. Python's); their
// Path()s name them in rows, notes and errors.
absl::StatusOr<model::ModelReport> AnalyzeReadersAgainstBase(const CheckpointReader& checkpoint,
                                                             const CheckpointReader& base,
                                                             const AnalysisOptions& analysis,
                                                             const LayerRunner& run,
                                                             const ModelAnalysisOptions& options);

// AnalyzeAgainstBase on `engine`, in-process.
absl::StatusOr<model::ModelReport> AnalyzeCheckpointAgainstBase(
    const std::string& path, const std::string& base_path, const Engine& engine,
    const ModelAnalysisOptions& options);

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_BASE_DELTA_H_
