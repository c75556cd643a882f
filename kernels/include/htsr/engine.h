// The engine: turns layer tensors into LayerResults, one at a time or many in parallel,
// from any source (files in-process, a gRPC stream, a Python client). Results are
// reported as soon as each is ready.
#ifndef HTSR_ENGINE_H_
#define HTSR_ENGINE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/backend.h"
#include "htsr/layer.h"
#include "htsr/options.h"
#include "htsr/summary.h"
#include "htsr/tensor.h"

namespace htsr {

struct EngineConfig {
  AnalysisOptions options;
  Device device = Device::kCpu;  // kind and CUDA ordinal ("cuda:1")
  int cuda_lanes = 0;       // CUDA backend's concurrent calls (1..kMaxCudaLanes); 0 = its default
  int threads = 0;          // worker threads for layers (0 = hardware concurrency)
  bool keep_evals = false;  // fill LayerResult::evals (reports)
};

class Engine {
 public:
  // Fails only for configuration errors (e.g. --device cuda without a GPU).
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineConfig& config);
  // An engine on a backend the caller made (config.device is not consulted; null = the
  // CPU). A backend
  // other than "cpu" gets the CPU behind it for what it refuses as too large
  // (kResourceExhausted) and for failed KS scans. Tests use it to drive that fallback.
  static std::unique_ptr<Engine> CreateWithBackend(const EngineConfig& config,
                                                   std::unique_ptr<Backend> backend);
  ~Engine();

  const EngineConfig& config() const { return config_; }
  const Backend& backend() const { return *backend_; }
  // One line about backend choice (e.g. "no CUDA device: using cpu"), or empty.
  const std::string& backend_note() const { return backend_note_; }

  // Analyses one planned layer. Never throws and never aborts on bad data: NaN/Inf,
  // wrong byte counts, solver failures become status kFailed with a reason. Thread-safe.
  LayerResult AnalyzeLayer(const LayerPlan& plan, const TensorView& tensor) const;
  // The rows a layer contributes to the table: AnalyzeLayer's one row, or with
  // options.pool == false one row per conv slice (slice_id 0.., reference WW2x mode; dense
  // layers get slice_id 0). Same guarantees as AnalyzeLayer.
  std::vector<LayerResult> AnalyzeLayerRows(const LayerPlan& plan, const TensorView& tensor) const;

 private:
  explicit Engine(EngineConfig config);
  EngineConfig config_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Backend> cpu_fallback_;  // when backend_ is not the CPU
  std::string backend_note_;
};

// Source of tensors for a whole model: metadata up front, bytes on demand.
struct TensorSource {
  std::vector<TensorInfo> tensors;  // depth order
  // Loads tensor i's bytes. Called from worker threads; must be thread-safe.
  std::function<absl::StatusOr<TensorView>(size_t index)> load;
};

// Plans every candidate layer of `tensors` (layer ids from 1, in order). As the reference,
// a file where no tensor name ends in ".weight" (npz/npy arrays) has every floating
// rank-2..4 tensor but "*.bias" as a candidate.
std::vector<LayerPlan> PlanModel(const std::vector<TensorInfo>& tensors,
                                 const AnalysisOptions& options,
                                 std::vector<size_t>* tensor_index = nullptr);

// Whether the layer is big enough that, on the CPU backend, AnalyzeModel solves it alone
// with every BLAS thread rather than beside others with one. OpenBLAS results depend in
// the last bits on its thread count, so whoever wants embedded mode's exact numbers (the
// server, split remote calls) follows the same rule.
bool IsLargeLayer(const LayerPlan& plan);

// Whether AnalyzeModel on `engine` solves this layer alone: a large layer on the CPU
// backend. With a device backend no layer is: the device serialises the solves itself, and
// every layer goes to the worker pool so that loading and converting the next layers (CPU)
// overlaps the current solve (GPU). The server follows this, not IsLargeLayer, because a
// lock held around a whole GPU layer would serialise that CPU work too.
bool SolvesAlone(const Engine& engine, const LayerPlan& plan);

// Whether AnalyzeModel runs this layer with every BLAS thread rather than one: a layer it
// solves alone (SolvesAlone), and also the only layer left for the worker pool, which then
// has one worker and nothing to share the cores with. `small_layers` counts the model's
// plans that are not SolvesAlone, skipped ones included. The one statement of the rule:
// the server follows it too, to return embedded mode's bits.
bool RunsWithAllBlasThreads(const Engine& engine, const LayerPlan& plan, size_t small_layers);

struct ModelCallbacks {
  // Which planned layers to analyse (the CLI's --layers); unset = all. Layers not
  // selected are left out of the results entirely; layer ids stay those of PlanModel.
  std::function<bool(const LayerPlan&)> select;
  // Called once per row (skipped and failed layers too; with pool = false once per conv
  // slice), from worker threads, serialised.
  std::function<void(const LayerResult&)> on_layer;
};

// Analyses every candidate layer of `source` with the engine's worker threads; at most
// one layer in flight per worker, so memory stays bounded. Returns results ordered by
// layer_id (then slice_id). A load error becomes a failed row for that layer.
std::vector<LayerResult> AnalyzeModel(const Engine& engine, const TensorSource& source,
                                      const ModelCallbacks& callbacks = {});

}  // namespace htsr

#endif  // HTSR_ENGINE_H_
