#include "analysis/base_delta.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "analysis/lora_merge.h"
#include "analysis/reader_source.h"
#include "htsr/base/checked_math.h"
#include "htsr/dtype.h"
#include "htsr/gram_products.h"
#include "htsr/status_macros.h"

namespace htsr::analysis {
namespace {

// Row-major matrix view: element (r, c) at data[r * rs + c * cs].
struct MatrixView {
  const float* data;
  int64_t rows, cols, rs, cs;
  double at(int64_t r, int64_t c) const { return data[r * rs + c * cs]; }
};

double FrobeniusOfDifference(const MatrixView& a, const MatrixView& b) {
  double s = 0;
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t c = 0; c < a.cols; ++c) {
      const double d = a.at(r, c) - b.at(r, c);
      s += d * d;
    }
  }
  return std::sqrt(s);
}

// The view's elements as a row-major float64 matrix, for BLAS.
std::vector<double> Dense(const MatrixView& m) {
  std::vector<double> out(static_cast<size_t>(m.rows * m.cols));
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t c = 0; c < m.cols; ++c) out[static_cast<size_t>(r * m.cols + c)] = m.at(r, c);
  }
  return out;
}

// weightwatcher 0.7.7 matrix_distance(W1, W2, 'cka'): ||W1^T W2|| / sqrt(||W1^T W1|| ||W2 W2^T||),
// with 1e-6 added to a denominator below 1e-6. W1 is the model's matrix, W2 the base's. The
// products run through BLAS (htsr/gram_products.h) in float64.
double Cka(const MatrixView& w1, const MatrixView& w2) {
  const std::vector<double> a = Dense(w1), b = Dense(w2);
  const double num = CrossProductFrobenius(a.data(), b.data(), w1.rows, w1.cols);
  double norm = std::sqrt(GramFrobenius(a.data(), w1.rows, w1.cols) *
                          GramFrobenius(b.data(), w2.rows, w2.cols));
  if (norm < 1e-6) norm += 1e-6;
  return num / norm;
}

// The reference's Wmats of a tensor (WWLayer.set_weight_matrices, conv2D_Wmats).
std::vector<std::pair<MatrixView, MatrixView>> Slices(const std::vector<int64_t>& shape,
                                                      const float* w, const float* wb) {
  std::vector<std::pair<MatrixView, MatrixView>> out;
  if (shape.size() == 2) {
    // Dense: the matrix as stored (out, in), not transposed.
    out.push_back({{w, shape[0], shape[1], shape[1], 1}, {wb, shape[0], shape[1], shape[1], 1}});
  } else if (shape.size() == 4) {
    const int64_t a = shape[0], b = shape[1], kh = shape[2], kw = shape[3];
    if (a + b >= kh + kw) {
      // Channels last (PyTorch's out, in, kh, kw): W[:, :, i, j], transposed when out < in.
      const int64_t rs = b * kh * kw, cs = kh * kw;
      for (int64_t i = 0; i < kh; ++i) {
        for (int64_t j = 0; j < kw; ++j) {
          const int64_t off = i * kw + j;
          MatrixView m{w + off, a, b, rs, cs}, mb{wb + off, a, b, rs, cs};
          if (a < b) {
            m = {w + off, b, a, cs, rs};
            mb = {wb + off, b, a, cs, rs};
          }
          out.push_back({m, mb});
        }
      }
    } else {
      // Channels first (kh, kw, in, out): W[i, j, :, :], transposed when it is wide.
      const int64_t rs = kw, cs = 1;
      for (int64_t i = 0; i < a; ++i) {
        for (int64_t j = 0; j < b; ++j) {
          const int64_t off = (i * b + j) * kh * kw;
          MatrixView m{w + off, kh, kw, rs, cs}, mb{wb + off, kh, kw, rs, cs};
          if (kw < kh) {
            m = {w + off, kw, kh, cs, rs};
            mb = {wb + off, kw, kh, cs, rs};
          }
          out.push_back({m, mb});
        }
      }
    }
  }
  return out;
}

std::string ShapeOf(const TensorInfo& t) { return ShapeString(t.shape); }

// Rows that come back from a server carry no tensor name (the wire contract has none);
// layer ids are PlanModel's on both sides, so the local plan restores it.
void RestoreTensorNames(std::vector<LayerResult>& rows, const std::vector<LayerPlan>& plans) {
  for (LayerResult& r : rows) {
    const size_t k = static_cast<size_t>(r.plan.layer_id) - 1;
    if (r.plan.tensor_name.empty() && r.plan.layer_id >= 1 && k < plans.size() &&
        plans[k].name == r.plan.name) {
      r.plan.tensor_name = plans[k].tensor_name;
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<float>> TensorToFloat32(const TensorView& t) {
  const std::optional<int64_t> n = t.info.NumElements();
  if (!n || static_cast<uint64_t>(*n) * DTypeSize(t.info.dtype) != t.bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", t.info.name, "' has the wrong number of bytes"));
  }
  std::vector<float> out(static_cast<size_t>(*n));
  if (!ConvertToFloat32(t.info.dtype, t.bytes.data(), out.size(), out.data())) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", t.info.name, "': dtype ",
                                                   std::string(DTypeName(t.info.dtype)),
                                                   " is not floating"));
  }
  return out;
}

absl::Status BaseModelError(const absl::Status& status, const std::string& base_path) {
  // Reader errors start with the path already; say only that it is the base.
  const absl::string_view msg = status.message();
  return absl::Status(status.code(), absl::StartsWith(msg, base_path)
                                         ? absl::StrCat("base model ", msg)
                                         : absl::StrCat("base model ", base_path, ": ", msg));
}

LayerDistances ComputeDistances(const std::vector<int64_t>& shape, const float* w,
                                const float* w_base) {
  LayerDistances d;
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;  // the caller's tensor: its size was checked on load
  double diff = 0, base = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(w[i]) - w_base[i];
    diff += x * x;
    base += static_cast<double>(w_base[i]) * w_base[i];
  }
  d.frobenius = std::sqrt(diff);
  d.relative = d.frobenius == 0 ? 0.0 : d.frobenius / std::sqrt(base);
  const auto slices = Slices(shape, w, w_base);
  if (slices.empty()) {
    d.euclidean = d.frobenius;  // the reference's one matrix for other ranks
    return d;
  }
  double euclid = 0, cka = 0;
  for (const auto& [m, mb] : slices) {
    euclid += FrobeniusOfDifference(m, mb);
    cka += Cka(m, mb);
  }
  d.euclidean = euclid / static_cast<double>(slices.size());
  d.cka = cka / static_cast<double>(slices.size());
  return d;
}

BasePairing PairWithBase(const std::vector<TensorInfo>& model,
                         const std::vector<TensorInfo>& base) {
  BasePairing p;
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < base.size(); ++i) by_name.emplace(base[i].name, i);
  std::vector<bool> used(base.size(), false);
  p.base_index.resize(model.size());
  p.reason.resize(model.size());
  for (size_t i = 0; i < model.size(); ++i) {
    // Exact names only: the reference's containment test pairs "layer.1" with "layer.10".
    auto it = by_name.find(model[i].name);
    if (it == by_name.end()) {
      p.reason[i] = "no tensor of this name in the base model";
      continue;
    }
    used[it->second] = true;
    const TensorInfo& b = base[it->second];
    if (b.shape != model[i].shape) {
      // Never a zero matrix or a transposed partner (the reference's): a different shape
      // is a different layer.
      p.reason[i] =
          absl::StrCat("shape ", ShapeOf(model[i]), " differs from the base's ", ShapeOf(b));
      continue;
    }
    if (!IsFloating(b.dtype)) {
      p.reason[i] =
          absl::StrCat("the base's tensor is ", std::string(DTypeName(b.dtype)), ", not floating");
      continue;
    }
    p.base_index[i] = it->second;
  }
  for (size_t i = 0; i < base.size(); ++i) {
    if (!used[i]) p.base_only.push_back(base[i].name);
  }
  return p;
}

DeltaSource MakeDeltaSource(const CheckpointReader& model, const CheckpointReader& base,
                            const BasePairing& pairing) {
  DeltaSource out;
  out.source.tensors = model.Tensors();
  for (size_t i = 0; i < out.source.tensors.size(); ++i) {
    if (pairing.base_index[i]) out.source.tensors[i].dtype = DType::kF32;
  }
  out.distances =
      std::make_shared<std::vector<std::optional<LayerDistances>>>(out.source.tensors.size());
  auto mu = std::make_shared<std::mutex>();
  out.source.load = [&model, &base, index = pairing.base_index, reasons = pairing.reason,
                     distances = out.distances, mu](size_t i) -> absl::StatusOr<TensorView> {
    if (i >= index.size() || !index[i]) {
      return absl::FailedPreconditionError(
          absl::StrCat("no base layer: ", i < reasons.size() ? reasons[i] : "unknown tensor"));
    }
    HTSR_RETURN_IF_ERROR(model.CheckIntact());
    HTSR_RETURN_IF_ERROR(base.CheckIntact());
    std::vector<float> w, wb;
    {
      // One tensor of each model at a time: the views are released before the next load.
      HTSR_ASSIGN_OR_RETURN(TensorView tw, model.Load(i));
      HTSR_ASSIGN_OR_RETURN(w, TensorToFloat32(tw));
    }
    {
      absl::StatusOr<TensorView> tb = base.Load(*index[i]);
      if (!tb.ok()) {
        return absl::Status(tb.status().code(),
                            absl::StrCat("base model: ", tb.status().message()));
      }
      HTSR_ASSIGN_OR_RETURN(wb, TensorToFloat32(*tb));
    }
    const TensorInfo& info = model.Tensors()[i];
    LayerDistances d = ComputeDistances(info.shape, w.data(), wb.data());
    // The difference in float32, as the reference forms W_left - W_right.
    auto diff = std::make_shared<std::vector<float>>(w.size());
    for (size_t k = 0; k < w.size(); ++k) (*diff)[k] = w[k] - wb[k];
    {
      std::lock_guard<std::mutex> lock(*mu);
      (*distances)[i] = d;
    }
    TensorView view;
    view.info = info;
    view.info.dtype = DType::kF32;
    view.bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(diff->data()),
                                            diff->size() * sizeof(float));
    view.owner = diff;
    return view;
  };
  return out;
}

absl::StatusOr<model::ModelReport> AnalyzeCheckpointAgainstBase(
    const std::string& path, const std::string& base_path, const Engine& engine,
    const ModelAnalysisOptions& options) {
  const LayerRunner run =
      [&engine](const TensorSource& source,
                const ModelCallbacks& callbacks) -> absl::StatusOr<std::vector<LayerResult>> {
    return AnalyzeModel(engine, source, callbacks);
  };
  HTSR_ASSIGN_OR_RETURN(model::ModelReport report,
                        AnalyzeAgainstBase(path, base_path, engine.config().options, run, options));
  report.backend = std::string(engine.backend().Name());
  return report;
}

absl::StatusOr<model::ModelReport> AnalyzeAgainstBase(const std::string& path,
                                                      const std::string& base_path,
                                                      const AnalysisOptions& aopts,
                                                      const LayerRunner& run,
                                                      const ModelAnalysisOptions& options) {
  HTSR_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointReader> reader, OpenCheckpoint(path));
  absl::StatusOr<std::unique_ptr<CheckpointReader>> base_reader = OpenCheckpoint(base_path);
  if (!base_reader.ok()) {
    return BaseModelError(base_reader.status(), base_path);
  }
  return AnalyzeReadersAgainstBase(*reader, **base_reader, aopts, run, options);
}

absl::StatusOr<model::ModelReport> AnalyzeReadersAgainstBase(const CheckpointReader& checkpoint,
                                                             const CheckpointReader& base,
                                                             const AnalysisOptions& aopts,
                                                             const LayerRunner& run,
                                                             const ModelAnalysisOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& path = checkpoint.Path();
  const std::string& base_path = base.Path();
  // A LoRA adapter is not a model of its own: its layers are the updates W_merged - W_base
  // already (from their r x r problems), and the model the delta_* columns compare with the
  // base is the merged W_base + s B A (analysis/lora_merge.h).
  const bool updates = HoldsLowRankUpdates(checkpoint.Tensors());
  const BasePairing pairing = updates ? PairUpdatesWithBase(checkpoint.Tensors(), base.Tensors())
                                      : PairWithBase(checkpoint.Tensors(), base.Tensors());
  DeltaSource delta, merged;
  if (updates) {
    delta.source = ReaderSource(checkpoint);
    merged = MakeMergedSource(checkpoint, base, pairing);
  } else {
    delta = MakeDeltaSource(checkpoint, base, pairing);
  }
  const auto& distances = updates ? merged.distances : delta.distances;
  // Model tensor name -> its partner's name in the base (the same name but for adapters).
  std::unordered_map<std::string, std::string> base_name_of;
  for (size_t i = 0; i < pairing.base_index.size(); ++i) {
    if (pairing.base_index[i]) {
      base_name_of[checkpoint.Tensors()[i].name] = base.Tensors()[*pairing.base_index[i]].name;
    }
  }

  std::vector<size_t> tensor_of_plan;
  const std::vector<LayerPlan> plans = PlanModel(delta.source.tensors, aopts, &tensor_of_plan);
  HTSR_RETURN_IF_ERROR(options.filter.CheckSelectsAny(plans, path));
  std::unordered_map<std::string, size_t> tensor_by_name;
  for (size_t k = 0; k < plans.size(); ++k)
    tensor_by_name[plans[k].tensor_name] = tensor_of_plan[k];
  auto matched = [&](const LayerPlan& p) {
    auto it = tensor_by_name.find(p.tensor_name);
    return it != tensor_by_name.end() && pairing.base_index[it->second].has_value();
  };

  int64_t units = 0, cost = 0;
  for (const LayerPlan& p : plans) {
    if (!options.filter.Selects(p)) continue;
    ++units;
    if (p.analyse && matched(p)) cost += p.num_evals;
  }
  std::unique_ptr<LayerProgress> progress;
  if (options.progress) {
    progress = options.progress(std::filesystem::path(path).filename().string(), units, cost);
  }

  ModelCallbacks callbacks;
  callbacks.select = [&](const LayerPlan& p) { return options.filter.Selects(p) && matched(p); };
  if (progress) {
    callbacks.on_layer = [p = progress.get()](const LayerResult& res) {
      p->Advance(res.plan.analyse ? res.plan.num_evals : 0, res.plan.name);
    };
  }
  HTSR_ASSIGN_OR_RETURN(std::vector<LayerResult> rows, run(delta.source, callbacks));
  RestoreTensorNames(rows, plans);
  // A remote server analyses only the selected layers; filtering again keeps the rows
  // exactly embedded mode's should one ignore the selection.
  std::erase_if(rows, [&](const LayerResult& r) { return !callbacks.select(r.plan); });

  // Layers without a partner: a skipped row each, never dropped.
  std::vector<std::string> unmatched;
  for (const LayerPlan& p : plans) {
    if (!options.filter.Selects(p) || matched(p)) continue;
    LayerResult r;
    r.plan = p;
    r.status = LayerStatus::kSkipped;
    r.reason = absl::StrCat("no base layer: ", pairing.reason[tensor_by_name[p.tensor_name]]);
    unmatched.push_back(p.name);
    if (progress) progress->Advance(0, p.name);
    rows.push_back(std::move(r));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const LayerResult& a, const LayerResult& b) {
    return a.plan.layer_id < b.plan.layer_id;
  });

  // The two models' own metrics, layer by layer again, for the delta_* columns.
  ModelCallbacks own;
  own.select = [&](const LayerPlan& p) {
    return options.filter.Selects(p) && matched(p) && p.analyse;
  };
  const TensorSource model_source = updates ? merged.source : ReaderSource(checkpoint);
  HTSR_ASSIGN_OR_RETURN(std::vector<LayerResult> model_rows, run(model_source, own));
  RestoreTensorNames(model_rows, PlanModel(model_source.tensors, aopts));
  std::map<std::pair<std::string, int64_t>, const LayerResult*> model_by_name, base_by_name;
  for (const LayerResult& r : model_rows) {
    model_by_name[{r.plan.tensor_name, r.slice_id.value_or(-1)}] = &r;
  }
  std::unordered_set<std::string> wanted_base;
  for (const LayerResult& r : model_rows) {
    auto b = base_name_of.find(r.plan.tensor_name);
    if (b != base_name_of.end()) wanted_base.insert(b->second);
  }
  ModelCallbacks own_base;
  own_base.select = [&](const LayerPlan& p) { return wanted_base.contains(p.tensor_name); };
  const TensorSource base_source = ReaderSource(base);
  HTSR_ASSIGN_OR_RETURN(std::vector<LayerResult> base_rows, run(base_source, own_base));
  RestoreTensorNames(base_rows, PlanModel(base_source.tensors, aopts));
  for (const LayerResult& r : base_rows) {
    base_by_name[{r.plan.tensor_name, r.slice_id.value_or(-1)}] = &r;
  }

  for (LayerResult& r : rows) {
    auto t = tensor_by_name.find(r.plan.tensor_name);
    if (r.status == LayerStatus::kSkipped || t == tensor_by_name.end()) continue;
    if (const auto& d = (*distances)[t->second]) {
      r.dist_frobenius = d->frobenius;
      r.dist_relative = d->relative;
      r.dist_euclidean = d->euclidean;
      r.dist_cka = d->cka;
    }
    const std::pair<std::string, int64_t> key{r.plan.tensor_name, r.slice_id.value_or(-1)};
    auto bn = base_name_of.find(r.plan.tensor_name);
    if (bn == base_name_of.end()) continue;
    auto m = model_by_name.find(key);
    auto b = base_by_name.find({bn->second, key.second});
    if (m == model_by_name.end() || b == base_by_name.end()) continue;
    if (m->second->status != LayerStatus::kSuccess || b->second->status != LayerStatus::kSuccess)
      continue;
    r.delta_alpha = m->second->alpha - b->second->alpha;
    r.delta_log_norm = m->second->log_norm - b->second->log_norm;
    r.delta_log_spectral_norm = m->second->log_spectral_norm - b->second->log_spectral_norm;
  }
  HTSR_RETURN_IF_ERROR(checkpoint.CheckIntact());
  if (absl::Status s = base.CheckIntact(); !s.ok()) {
    return BaseModelError(s, base_path);
  }

  model::ModelReport report;
  report.path = path;
  report.format = std::string(checkpoint.Format());
  report.bytes = checkpoint.TotalBytes();
  report.notes = checkpoint.Notes();
  if (updates) {
    report.notes.push_back(absl::StrCat(
        "LoRA updates s B A on ", base_path,
        ": rows are the updates (the merged W_base + s B A "
        "minus W_base); delta_* and dist_* compare the merged weight with W_base; ",
        base_name_of.size(), " of the base's ", base.Tensors().size(), " tensors are adapted"));
  } else {
    report.notes.push_back(absl::StrCat("deltas W - W_base against ", base_path));
  }
  if (!unmatched.empty()) {
    report.notes.push_back(absl::StrCat(unmatched.size(),
                                        " layer(s) have no base layer of the same name and "
                                        "shape (skipped rows): ",
                                        absl::StrJoin(unmatched, ", ")));
  }
  if (!pairing.base_only.empty()) {
    report.notes.push_back(
        absl::StrCat(pairing.base_only.size(),
                     " base tensor(s) not in the model: ", absl::StrJoin(pairing.base_only, ", ")));
  }
  report.layers = std::move(rows);
  if (progress) progress->Finish();
  report.summary = Summarize(report.layers);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace htsr::analysis
