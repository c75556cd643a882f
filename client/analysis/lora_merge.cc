#include "analysis/lora_merge.h"

#include <cmath>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "htsr/base/checked_math.h"
#include "htsr/dtype.h"
#include "htsr/status_macros.h"

namespace htsr::analysis {
namespace {

constexpr absl::string_view kUpdateSuffix = ".lora_BA.weight";  // readers/lora_adapter.h
constexpr absl::string_view kPeftPrefix = "base_model.model.";

// The shape the base weight must have for `update`: (out, in), or (in, out) when the module
// stores its weight transposed.
std::vector<int64_t> BaseShapeFor(const TensorInfo& update) {
  if (update.shape.size() != 2) return update.shape;
  if (update.low_rank_fan_in_fan_out) return {update.shape[1], update.shape[0]};
  return update.shape;
}

}  // namespace

bool HoldsLowRankUpdates(const std::vector<TensorInfo>& tensors) {
  for (const TensorInfo& t : tensors) {
    if (t.low_rank > 0) return true;
  }
  return false;
}

std::string LoraBaseTensorName(const TensorInfo& update) {
  if (update.low_rank <= 0 || !absl::EndsWith(update.name, kUpdateSuffix)) return "";
  absl::string_view module(update.name);
  module.remove_suffix(kUpdateSuffix.size());
  absl::ConsumePrefix(&module, kPeftPrefix);
  return absl::StrCat(module, ".weight");
}

BasePairing PairUpdatesWithBase(const std::vector<TensorInfo>& updates,
                                const std::vector<TensorInfo>& base) {
  BasePairing p;
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < base.size(); ++i) by_name.emplace(base[i].name, i);
  p.base_index.resize(updates.size());
  p.reason.resize(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    const TensorInfo& u = updates[i];
    const std::string want = LoraBaseTensorName(u);
    if (want.empty()) {
      p.reason[i] = "not a LoRA update";
      continue;
    }
    auto it = by_name.find(want);
    if (it == by_name.end()) {
      p.reason[i] = absl::StrCat("the base model has no tensor ", want);
      continue;
    }
    const TensorInfo& b = base[it->second];
    const std::vector<int64_t> shape = BaseShapeFor(u);
    if (b.shape != shape) {
      // A LoRA update of the wrong shape is not an update of this weight: never transposed
      // or padded to fit.
      p.reason[i] =
          absl::StrCat("the update is ", ShapeString(shape), " but the base's ", want, " is ",
                       ShapeString(b.shape),
                       u.low_rank_fan_in_fan_out ? " (fan_in_fan_out: stored (in, out))" : "");
      continue;
    }
    if (!IsFloating(b.dtype)) {
      p.reason[i] = absl::StrCat("the base's ", want, " is ", std::string(DTypeName(b.dtype)),
                                 ", not floating");
      continue;
    }
    p.base_index[i] = it->second;
  }
  return p;
}

double LowRankFrobenius(const float* a, const float* b, int64_t r, int64_t in, int64_t out,
                        double scale) {
  // ||BA||_F^2 = tr(A^T B^T B A) = sum_ij (B^T B)_ij (A A^T)_ij: two r x r Gram matrices.
  std::vector<double> gb(static_cast<size_t>(r * r), 0.0), ga(static_cast<size_t>(r * r), 0.0);
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double sb = 0, sa = 0;
      for (int64_t k = 0; k < out; ++k) {
        sb += static_cast<double>(b[k * r + i]) * b[k * r + j];
      }
      for (int64_t k = 0; k < in; ++k) {
        sa += static_cast<double>(a[i * in + k]) * a[j * in + k];
      }
      gb[i * r + j] = gb[j * r + i] = sb;
      ga[i * r + j] = ga[j * r + i] = sa;
    }
  }
  double s = 0;
  for (size_t k = 0; k < gb.size(); ++k) s += gb[k] * ga[k];
  return std::abs(scale) * std::sqrt(std::max(s, 0.0));
}

DeltaSource MakeMergedSource(const CheckpointReader& adapter, const CheckpointReader& base,
                             const BasePairing& pairing) {
  DeltaSource out;
  out.source.tensors = adapter.Tensors();
  for (size_t i = 0; i < out.source.tensors.size(); ++i) {
    if (!pairing.base_index[i]) continue;
    // The merged weight is a stored matrix of the base's shape: planned as any dense layer.
    TensorInfo& t = out.source.tensors[i];
    t.shape = base.Tensors()[*pairing.base_index[i]].shape;
    t.dtype = DType::kF32;
    t.low_rank = 0;
    t.low_rank_scale = 1.0;
    t.low_rank_fan_in_fan_out = false;
  }
  out.distances =
      std::make_shared<std::vector<std::optional<LayerDistances>>>(out.source.tensors.size());
  auto mu = std::make_shared<std::mutex>();
  out.source.load = [&adapter, &base, index = pairing.base_index, reasons = pairing.reason,
                     infos = out.source.tensors, distances = out.distances,
                     mu](size_t i) -> absl::StatusOr<TensorView> {
    if (i >= index.size() || !index[i]) {
      return absl::FailedPreconditionError(
          absl::StrCat("no base layer: ", i < reasons.size() ? reasons[i] : "unknown tensor"));
    }
    HTSR_RETURN_IF_ERROR(adapter.CheckIntact());
    HTSR_RETURN_IF_ERROR(base.CheckIntact());
    HTSR_ASSIGN_OR_RETURN(TensorView factors, adapter.Load(i));
    const TensorInfo& u = factors.info;
    const int64_t r = u.low_rank, out_dim = u.shape[0], in_dim = u.shape[1];
    // The adapter reader validated the pair; the byte count is checked again here because
    // the product below indexes by it.
    const std::optional<uint64_t> n_bytes = u.DataBytes();
    if (r <= 0 || in_dim <= 0 || out_dim <= 0 || !n_bytes || factors.bytes.size() != *n_bytes) {
      return absl::InternalError(absl::StrCat("LoRA factors of ", u.name, ": wrong byte count"));
    }
    const float* a = reinterpret_cast<const float*>(factors.bytes.data());
    const float* b = a + r * in_dim;
    std::vector<float> w;
    {
      absl::StatusOr<TensorView> tb = base.Load(*index[i]);
      if (!tb.ok()) {
        return absl::Status(tb.status().code(),
                            absl::StrCat("base model: ", tb.status().message()));
      }
      HTSR_ASSIGN_OR_RETURN(w, TensorToFloat32(*tb));
    }
    const double s = u.low_rank_scale;
    auto merged = std::make_shared<std::vector<float>>(w.size());
    // Element (o, k) of the update, o < out, k < in, lands at (o, k) of W, or at (k, o)
    // when W is stored (in, out). Summed in float64, rounded to float32 once (PEFT's
    // merge adds a float32 product; this is the exact sum, rounded).
    const bool transposed = u.low_rank_fan_in_fan_out;
    for (int64_t o = 0; o < out_dim; ++o) {
      for (int64_t k = 0; k < in_dim; ++k) {
        double ba = 0;
        for (int64_t j = 0; j < r; ++j) {
          ba += static_cast<double>(b[o * r + j]) * a[j * in_dim + k];
        }
        const size_t at =
            transposed ? static_cast<size_t>(k * out_dim + o) : static_cast<size_t>(o * in_dim + k);
        (*merged)[at] = static_cast<float>(static_cast<double>(w[at]) + s * ba);
      }
    }
    const TensorInfo& info = infos[i];
    LayerDistances d = ComputeDistances(info.shape, merged->data(), w.data());
    // The difference of two float32 matrices carries their rounding (~1e-7 of W), which can
    // be all of a small update: the factors give it exactly.
    d.frobenius = LowRankFrobenius(a, b, r, in_dim, out_dim, s);
    double base_sq = 0;
    for (float x : w) base_sq += static_cast<double>(x) * x;
    d.relative = d.frobenius == 0 ? 0.0 : d.frobenius / std::sqrt(base_sq);
    d.euclidean = d.frobenius;
    {
      std::lock_guard<std::mutex> lock(*mu);
      (*distances)[i] = d;
    }
    TensorView view;
    view.info = info;
    view.bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(merged->data()),
                                            merged->size() * sizeof(float));
    view.owner = merged;
    return view;
  };
  return out;
}

}  // namespace htsr::analysis
