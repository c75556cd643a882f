// Whole models: planning (layer ids) and the worker pool that analyses every layer.
#include <algorithm>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/parallel_for.h"
#include "htsr/cpu_backend.h"
#include "htsr/engine.h"

namespace htsr {
namespace {

// Layers with at least this many Gram flops (N * M^2 per slice, summed) are solved one at
// a time with every BLAS thread; smaller ones run side by side, one BLAS thread each.
// 2^28 ~ a 650 x 650 matrix: below it OpenBLAS threading gains little.
constexpr double kLargeLayerFlops = 268435456.0;

}  // namespace

bool IsLargeLayer(const LayerPlan& plan) {
  return plan.analyse && static_cast<double>(plan.N) * static_cast<double>(plan.M) *
                                 static_cast<double>(plan.M) * static_cast<double>(plan.rf) >=
                             kLargeLayerFlops;
}

bool SolvesAlone(const Engine& engine, const LayerPlan& plan) {
  return engine.backend().Name() == "cpu" && IsLargeLayer(plan);
}

bool RunsWithAllBlasThreads(const Engine& engine, const LayerPlan& plan, size_t small_layers) {
  return SolvesAlone(engine, plan) || small_layers == 1;
}

std::vector<LayerPlan> PlanModel(const std::vector<TensorInfo>& tensors,
                                 const AnalysisOptions& options,
                                 std::vector<size_t>* tensor_index) {
  // The reference's state-dict iterator: when no key ends in ".weight" (bare array files:
  // npz, npy), every key is taken as "<key>.weight", so every floating rank-2..4 tensor is a
  // layer; ".bias" keys stay biases.
  const bool any_weight = std::any_of(tensors.begin(), tensors.end(), [](const TensorInfo& t) {
    return absl::EndsWith(t.name, ".weight");
  });
  auto bare_candidate = [&](const TensorInfo& t) {
    return !any_weight && !absl::EndsWith(t.name, ".bias") && IsFloating(t.dtype) &&
           t.shape.size() >= 2 && t.shape.size() <= 4;
  };
  std::vector<LayerPlan> plans;
  if (tensor_index != nullptr) tensor_index->clear();
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!IsLayerCandidate(tensors[i], options) && !bare_candidate(tensors[i])) continue;
    plans.push_back(PlanLayer(tensors[i], static_cast<int>(plans.size()) + 1, options));
    if (tensor_index != nullptr) tensor_index->push_back(i);
  }
  return plans;
}

std::vector<LayerResult> AnalyzeModel(const Engine& engine, const TensorSource& source,
                                      const ModelCallbacks& callbacks) {
  std::vector<size_t> all_index;
  std::vector<LayerPlan> plans;
  std::vector<size_t> index;  // tensor index of plans[k]
  {
    std::vector<LayerPlan> all = PlanModel(source.tensors, engine.config().options, &all_index);
    for (size_t k = 0; k < all.size(); ++k) {
      if (callbacks.select && !callbacks.select(all[k])) continue;
      plans.push_back(std::move(all[k]));
      index.push_back(all_index[k]);
    }
  }
  std::vector<std::vector<LayerResult>> rows(plans.size());
  std::mutex callback_mu;
  auto finish = [&](size_t k, std::vector<LayerResult> r) {
    std::lock_guard<std::mutex> lock(callback_mu);
    rows[k] = std::move(r);
    if (callbacks.on_layer) {
      for (const LayerResult& row : rows[k]) callbacks.on_layer(row);
    }
  };
  auto run = [&](size_t k) {
    const LayerPlan& plan = plans[k];
    if (!plan.analyse) {
      finish(k, engine.AnalyzeLayerRows(plan, TensorView{}));
      return;
    }
    absl::StatusOr<TensorView> view;
    try {
      view = source.load(index[k]);
    } catch (const std::exception& e) {
      view = absl::InternalError(absl::StrCat("loading tensor: ", e.what()));
    }
    if (view.ok()) {
      finish(k, engine.AnalyzeLayerRows(plan, *view));
      return;
    }
    LayerResult r;
    r.plan = plan;
    r.status = LayerStatus::kFailed;
    r.warning = LayerWarning::kFailed;
    r.reason = std::string(view.status().message());
    if (!engine.config().options.pool) r.slice_id = 0;
    finish(k, {std::move(r)});
  };

  const int threads =
      engine.config().threads > 0 ? engine.config().threads : cpu::HardwareThreads();
  // Large layers first, one at a time, each with every BLAS thread (a 4096 x 4096 layer
  // keeps all cores busy inside dsyrk/dsytrd); then the small ones in parallel, one per
  // worker with one BLAS thread each, where layer-level parallelism beats BLAS threading.
  // With a GPU backend the device serialises the solves; every layer then goes to the
  // worker pool, so that loading and converting the next layers (CPU) overlaps the
  // current solve (GPU) instead of waiting for it.
  std::vector<size_t> large, small;
  for (size_t k = 0; k < plans.size(); ++k) {
    (SolvesAlone(engine, plans[k]) ? large : small).push_back(k);
  }
  cpu::SetBlasThreads(threads);
  for (size_t k : large) run(k);
  if (!small.empty()) {
    const int workers = static_cast<int>(std::min<size_t>(threads, small.size()));
    // A lone small layer keeps every thread (RunsWithAllBlasThreads), as does one worker.
    if (!RunsWithAllBlasThreads(engine, plans[small.front()], small.size()) && workers > 1) {
      cpu::SetBlasThreads(1);
    }
    ParallelFor(small.size(), workers, [&](size_t i) { run(small[i]); });
    cpu::SetBlasThreads(threads);
  }
  std::vector<LayerResult> results;
  for (std::vector<LayerResult>& r : rows) {
    for (LayerResult& row : r) results.push_back(std::move(row));
  }
  return results;
}

}  // namespace htsr
