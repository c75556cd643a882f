// The engine's per-layer work: one layer tensor -> its LayerResult row(s).
#include "htsr/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/cpu_backend.h"
#include "htsr/low_rank.h"
#include "htsr/metrics.h"
#include "htsr/mp_fit.h"
#include "htsr/powerlaw_fit.h"
#include "htsr/randomize.h"
#include "htsr/thresholds.h"
#include "htsr/tpl_fit.h"

namespace htsr {
namespace {

LayerResult Failed(LayerResult r, std::string reason) {
  r.status = LayerStatus::kFailed;
  r.warning = LayerWarning::kFailed;
  r.reason = std::move(reason);
  return r;
}

// The row columns one Marchenko-Pastur fit fills: the spectrum's own (mp_fit) or those of
// its randomized copy (randomize, the reference's rand_* names).
struct MpColumns {
  std::optional<int64_t> LayerResult::*num_spikes;
  std::optional<double> LayerResult::*sigma_mp;
  std::optional<double> LayerResult::*mp_softrank;
  std::optional<double> LayerResult::*bulk_min;
  std::optional<double> LayerResult::*bulk_max;
  std::optional<double> LayerResult::*W_scale;
};
constexpr MpColumns kMpColumns{&LayerResult::num_spikes,  &LayerResult::sigma_mp,
                               &LayerResult::mp_softrank, &LayerResult::bulk_min,
                               &LayerResult::bulk_max,    &LayerResult::W_scale};
constexpr MpColumns kRandMpColumns{&LayerResult::rand_num_spikes,  &LayerResult::rand_sigma_mp,
                                   &LayerResult::rand_mp_softrank, &LayerResult::rand_bulk_min,
                                   &LayerResult::rand_bulk_max,    &LayerResult::rand_W_scale};

void StoreMpFit(const MpFitResult& mp, const MpColumns& to, LayerResult* r) {
  r->*to.num_spikes = mp.num_spikes;
  r->*to.sigma_mp = mp.sigma_mp;
  r->*to.mp_softrank = mp.mp_softrank;
  r->*to.bulk_min = mp.bulk_min;
  r->*to.bulk_max = mp.bulk_max;
  r->*to.W_scale = mp.W_scale;
}

// The reference's weight scaling (apply_normalize_Wmats): conv2d slices by sqrt(1/2)
// (conv2d_norm); `normalize` REPLACES it by 1/sqrt(N) (the reference overrides, it does not
// multiply). conv1d is not scaled: the reference's conv2d_norm applies to CONV2D only.
double WeightScale(const LayerPlan& plan, const AnalysisOptions& options) {
  if (options.normalize) return 1.0 / std::sqrt(static_cast<double>(plan.N));
  if (plan.type == LayerType::kConv2d) return std::sqrt(0.5);
  return 1.0;
}

// Copies the slices of a (out, in, s...) tensor into `rf` contiguous out x in matrices,
// slice order = row-major order of the trailing dims (i outer, j inner for conv2d).
std::vector<float> ExtractSlices(std::vector<float> w, const LayerPlan& plan) {
  if (plan.rf == 1) return w;  // already the one matrix
  std::vector<float> out(w.size());
  const int64_t rows = plan.rows, cols = plan.cols, rf = plan.rf;
  for (int64_t o = 0; o < rows; ++o) {
    for (int64_t c = 0; c < cols; ++c) {
      const float* src = w.data() + (o * cols + c) * rf;
      for (int64_t s = 0; s < rf; ++s) out[(s * rows + o) * cols + c] = src[s];
    }
  }
  return out;
}

}  // namespace

Engine::Engine(EngineConfig config) : config_(std::move(config)) {}
Engine::~Engine() = default;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineConfig& config) {
  std::string note;
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      CreateBackend(config.device, config.threads, &note, config.cuda_lanes);
  if (!backend.ok()) return backend.status();
  std::unique_ptr<Engine> engine = CreateWithBackend(config, *std::move(backend));
  engine->backend_note_ = std::move(note);
  return engine;
}

std::unique_ptr<Engine> Engine::CreateWithBackend(const EngineConfig& config,
                                                  std::unique_ptr<Backend> backend) {
  std::unique_ptr<Engine> engine(new Engine(config));
  engine->backend_ = backend != nullptr ? std::move(backend) : CreateCpuBackend(config.threads);
  if (engine->backend_->Name() != "cpu") engine->cpu_fallback_ = CreateCpuBackend(config.threads);
  cpu::SetBlasThreads(config.threads);
  return engine;
}

namespace {

// Validates the tensor against its plan, converts it to float32, rejects NaN/Inf and lays
// the matrices out as `rf` contiguous rows x cols slices. Errors are the failed row's reason.
absl::StatusOr<std::vector<float>> LoadSlices(const LayerPlan& plan, const TensorView& tensor) {
  const TensorInfo& info = tensor.info;
  if (!IsFloating(info.dtype)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", info.name, ": dtype ", std::string(DTypeName(info.dtype)), " is not floating"));
  }
  const std::optional<int64_t> numel = info.NumElements();
  if (!numel.has_value() || *numel != plan.rows * plan.cols * plan.rf) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", info.name, ": shape [",
                                                   absl::StrJoin(info.shape, ", "),
                                                   "] does not match the layer plan"));
  }
  const size_t want = static_cast<size_t>(*numel) * DTypeSize(info.dtype);
  if (tensor.bytes.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", info.name, ": expected ", want,
                                                   " bytes, got ", tensor.bytes.size()));
  }
  std::vector<float> w(static_cast<size_t>(*numel));
  ConvertToFloat32(info.dtype, tensor.bytes.data(), w.size(), w.data());
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) {
      return absl::InvalidArgumentError(absl::StrCat("tensor has NaN/Inf values at element ", i));
    }
  }
  return ExtractSlices(std::move(w), plan);
}

// The reference multiplies the float32 array by a Python float: numpy keeps float32
// (value-based casting), so the scaled weights are rounded to f32 before the f64 SVD.
// Doing the same keeps conv2d spectra identical to ~1e-15 instead of ~1e-8.
void ScaleInF32(std::vector<float>& slices, double scale) {
  const float s = static_cast<float>(scale);
  if (s == 1.0f) return;
  for (float& v : slices) v *= s;
}

// The device backend with the CPU behind it: "too large for this device"
// (kResourceExhausted) eigen problems and failed device KS scans are redone on the CPU, so a
// device limit never turns into a failed row.
class WithCpuFallback final : public Backend {
 public:
  WithCpuFallback(Backend& primary, Backend* fallback, std::string layer)
      : primary_(primary), fallback_(fallback), layer_(std::move(layer)) {}
  std::string_view Name() const override { return primary_.Name(); }
  std::string Description() const override { return primary_.Description(); }
  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    absl::Status st = primary_.SquaredSingularValues(batch, scale, precision, out);
    if (st.code() == absl::StatusCode::kResourceExhausted && fallback_ != nullptr) {
      // The one place a device limit is visible to users: say why this layer ran on the CPU.
      std::fprintf(stderr, "htsr: layer '%s' solved on the CPU: %s\n", layer_.c_str(),
                   std::string(st.message()).c_str());
      st = fallback_->SquaredSingularValues(batch, scale, precision, out);
    }
    return st;
  }
  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    absl::StatusOr<PowerLawScan> scan = primary_.ScanPowerLaw(sorted);
    if (!scan.ok() && fallback_ != nullptr) scan = fallback_->ScanPowerLaw(sorted);
    return scan;
  }
  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    absl::StatusOr<TplScan> scan = primary_.ScanTruncatedPowerLaw(sorted, candidates);
    if (!scan.ok() && fallback_ != nullptr) {
      // Unlike the power-law scan, the TPL scan is slow on the CPU: say why it runs there.
      std::fprintf(stderr, "htsr: layer '%s' TPL scan on the CPU: %s\n", layer_.c_str(),
                   std::string(scan.status().message()).c_str());
      scan = fallback_->ScanTruncatedPowerLaw(sorted, candidates);
    }
    return scan;
  }

 private:
  Backend& primary_;
  Backend* fallback_;
  // A copy: the LayerResult whose name this is moves into AnalyzeSpectrum, which still
  // reports fallbacks (the TPL scan).
  const std::string layer_;
};

// Everything after the weights are in place: spectrum of `count` (already scaled) matrices
// of the plan's shape, fit, metrics and the optional analyses. r.plan.num_evals must be
// count * M.
// Fit, metrics and the optional analyses of a spectrum: `per_slice` holds `count` ascending
// runs of `m` eigenvalues. `slices` are the matrices it came from, for randomize; null for a
// spectrum given without its matrix (a LoRA update), which then has no randomized columns.
LayerResult AnalyzeSpectrum(Backend& backend, const EngineConfig& config, LayerResult r,
                            const std::vector<double>& per_slice, int64_t count, int64_t m,
                            const std::vector<float>* slices) {
  const LayerPlan& plan = r.plan;
  const AnalysisOptions& opt = config.options;
  absl::Status st;
  r.Q = static_cast<double>(plan.N) / static_cast<double>(plan.M);
  std::vector<double> pooled = per_slice;
  std::sort(pooled.begin(), pooled.end());
  r.has_esd = true;

  ComputeSpectrumStats(per_slice, count, m, pooled, plan.N, &r);
  PowerLawFit fit;
  if (opt.fit == FitType::kPowerLaw) {
    fit = FitPowerLaw(pooled, opt, backend);
  } else {
    // docs/spec.md §3a: the reference reports the TPL's alpha, xmin and D, no sigma or xmax.
    const TplFit tpl = FitTruncatedPowerLaw(pooled, opt, backend);
    fit.ok = tpl.ok;
    fit.failure = tpl.failure;
    fit.alpha = tpl.alpha;
    fit.D = tpl.D;
    fit.xmin = tpl.xmin;
    fit.num_pl_spikes = tpl.num_pl_spikes;
    r.Lambda = tpl.Lambda;
    if (tpl.ok) {
      fit.sigma = fit.xmax = std::numeric_limits<double>::quiet_NaN();
      r.tpl_R = tpl.R;
      r.tpl_p = tpl.p;
    }
  }
  r.alpha = fit.alpha;
  r.D = fit.D;
  r.sigma = fit.sigma;
  r.xmin = fit.xmin;
  r.xmax = fit.xmax;
  r.num_pl_spikes = fit.num_pl_spikes;
  if (opt.fix_fingers == FixFingers::kClipXmax) {
    r.num_fingers = fit.num_fingers;
    r.raw_alpha = fit.raw_alpha;
  }
  if (fit.ok) {
    r.status = LayerStatus::kSuccess;
    r.warning = fit.alpha < kAlphaOverTrained    ? LayerWarning::kOverTrained
                : fit.alpha > kAlphaUnderTrained ? LayerWarning::kUnderTrained
                                                 : LayerWarning::kNone;
  } else {
    r.status = LayerStatus::kFailed;
    r.warning = LayerWarning::kFailed;
    r.reason = fit.failure;
  }
  ComputeNormMetrics(pooled, plan.N, &r);

  if (opt.mp_fit) {
    StoreMpFit(FitMarchenkoPastur(pooled, plan.N, plan.M), kMpColumns, &r);
  }
  if (opt.randomize && slices != nullptr) {
    // Reference apply_random_esd: 5 replicas when there are < 100 eigenvalues for
    // max_rand_eval and the MP fit, then one fresh replica for the distance/soft rank.
    const int64_t n = count * plan.M;
    const int replicas = n < 100 ? 5 : 1;
    auto random_spectrum = [&](int replica, std::vector<double>* out) -> absl::Status {
      std::vector<float> shuffled = *slices;
      const int64_t stride = plan.rows * plan.cols;
      for (int64_t s = 0; s < count; ++s) {
        const uint64_t seed = opt.seed * 0x9E3779B97F4A7C15ull +
                              static_cast<uint64_t>(plan.layer_id) * 1000003ull +
                              static_cast<uint64_t>(r.slice_id.value_or(0)) * 131ull +
                              static_cast<uint64_t>(replica) * 7919ull + static_cast<uint64_t>(s);
        ShuffleElements(std::span<float>(shuffled.data() + s * stride, stride), seed);
      }
      const MatrixBatch rb{shuffled.data(), count, plan.rows, plan.cols};
      const size_t base = out->size();
      out->resize(base + static_cast<size_t>(n));
      return backend.SquaredSingularValues(
          rb, 1.0, opt.precision, std::span<double>(out->data() + base, static_cast<size_t>(n)));
    };
    std::vector<double> rand_evals, rand_one;
    for (int rep = 0; rep < replicas && st.ok(); ++rep) st = random_spectrum(rep, &rand_evals);
    if (st.ok()) st = random_spectrum(replicas, &rand_one);
    if (!st.ok()) return Failed(std::move(r), absl::StrCat("randomize: ", st.message()));
    std::sort(rand_evals.begin(), rand_evals.end());
    std::sort(rand_one.begin(), rand_one.end());
    r.max_rand_eval = rand_evals.back();
    r.rand_distance = JensenShannonDistance(pooled, rand_one);
    r.ww_softrank = rand_one.back() / pooled.back();
    r.ww_maxdist = pooled.back() - rand_one.back();
    StoreMpFit(FitMarchenkoPastur(rand_evals, plan.N, plan.M), kRandMpColumns, &r);
    r.num_traps = r.rand_num_spikes;  // spikes of the randomized spectrum: correlation traps
  }
  if (opt.detx) {
    const DetX d = ComputeDetX(pooled);
    r.detX_num = d.num;
    r.detX_val = d.val;
    r.detX_val_unrescaled = d.val_rescaled;  // sic: the reference's name for the rescaled one
    r.num_ERG_spikes = d.num;
    r.ERG_gap = static_cast<double>(d.num - r.num_pl_spikes);
  }
  if (config.keep_evals) r.evals = std::move(pooled);
  return r;
}

// The spectrum of `count` (already scaled) matrices of the plan's shape, then
// AnalyzeSpectrum. r.plan.num_evals must be count * M.
LayerResult AnalyzeMatrices(Backend& device, Backend* fallback, const EngineConfig& config,
                            LayerResult r, const std::vector<float>& slices, int64_t count) {
  WithCpuFallback backend(device, fallback, r.plan.tensor_name);
  const LayerPlan& plan = r.plan;
  const MatrixBatch batch{slices.data(), count, plan.rows, plan.cols};
  std::vector<double> per_slice(static_cast<size_t>(count * plan.M));
  absl::Status st = backend.SquaredSingularValues(batch, 1.0, config.options.precision, per_slice);
  if (!st.ok()) return Failed(std::move(r), absl::StrCat("eigen solver: ", st.message()));
  return AnalyzeSpectrum(backend, config, std::move(r), per_slice, count, plan.M, &slices);
}

// A LoRA update (TensorInfo::low_rank > 0): the bytes are A (r x in) then B (out x r),
// float32. Its r nonzero eigenvalues come from an r x r problem (htsr/low_rank.h); like the
// reference's peft mode (truncated SVD with k = r), the row's spectrum is those r values.
LayerResult AnalyzeLowRank(Backend& device, Backend* fallback, const EngineConfig& config,
                           LayerResult r, const TensorView& tensor) {
  const LayerPlan& plan = r.plan;
  const int64_t rank = tensor.info.low_rank;
  const size_t a_count = static_cast<size_t>(rank * plan.cols);
  const size_t b_count = static_cast<size_t>(plan.rows * rank);
  if (tensor.info.dtype != DType::kF32 ||
      tensor.bytes.size() != (a_count + b_count) * sizeof(float)) {
    return Failed(std::move(r), absl::StrCat("LoRA factors of ", tensor.info.name, ": expected ",
                                             (a_count + b_count) * sizeof(float),
                                             " float32 bytes, got ", tensor.bytes.size()));
  }
  std::vector<float> ab(a_count + b_count);
  std::memcpy(ab.data(), tensor.bytes.data(), tensor.bytes.size());
  for (size_t i = 0; i < ab.size(); ++i) {
    if (!std::isfinite(ab[i])) {
      return Failed(std::move(r),
                    absl::StrCat("LoRA factor ", i < a_count ? "A" : "B",
                                 " has NaN/Inf values at element ", i < a_count ? i : i - a_count));
    }
  }
  const double scale = tensor.info.low_rank_scale * WeightScale(plan, config.options);
  absl::StatusOr<std::vector<double>> evals = LowRankSquaredSingularValues(
      std::span<const float>(ab.data(), a_count),
      std::span<const float>(ab.data() + a_count, b_count), rank, plan.cols, plan.rows, scale);
  if (!evals.ok()) return Failed(std::move(r), std::string(evals.status().message()));
  WithCpuFallback backend(device, fallback, r.plan.tensor_name);
  return AnalyzeSpectrum(backend, config, std::move(r), *evals, 1, rank, nullptr);
}

// Runs `body` and turns an escaping exception into a failed row: none is thrown on
// purpose, but none may cross a layer boundary (docs/architecture.md rule 4) — e.g. bad_alloc, or
// std::system_error when a scan thread cannot start.
template <typename Body>
LayerResult Guarded(LayerResult proto, Body body) {
  const auto start = std::chrono::steady_clock::now();
  LayerResult r;
  try {
    r = body(proto);
  } catch (const std::bad_alloc&) {
    r = Failed(std::move(proto), "out of memory");
  } catch (const std::exception& e) {
    r = Failed(std::move(proto), absl::StrCat("internal error: ", e.what()));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace

LayerResult Engine::AnalyzeLayer(const LayerPlan& plan, const TensorView& tensor) const {
  LayerResult r;
  r.plan = plan;
  if (!plan.analyse) {
    r.status = LayerStatus::kSkipped;
    r.reason = plan.skip_reason;
    return r;
  }
  return Guarded(std::move(r), [&](LayerResult proto) {
    if (tensor.info.low_rank > 0) {
      return AnalyzeLowRank(*backend_, cpu_fallback_.get(), config_, std::move(proto), tensor);
    }
    absl::StatusOr<std::vector<float>> slices = LoadSlices(plan, tensor);
    if (!slices.ok()) return Failed(std::move(proto), std::string(slices.status().message()));
    ScaleInF32(*slices, WeightScale(plan, config_.options));
    return AnalyzeMatrices(*backend_, cpu_fallback_.get(), config_, std::move(proto), *slices,
                           plan.rf);
  });
}

std::vector<LayerResult> Engine::AnalyzeLayerRows(const LayerPlan& plan,
                                                  const TensorView& tensor) const {
  const AnalysisOptions& opt = config_.options;
  if (opt.pool) return {AnalyzeLayer(plan, tensor)};
  // pool = false (reference WW2xSliceIterator): one row per slice, slice_id 0 for dense.
  if (plan.rf == 1 || !plan.analyse || tensor.info.low_rank > 0) {
    LayerResult r = AnalyzeLayer(plan, tensor);
    r.slice_id = 0;
    return {std::move(r)};
  }
  LayerResult proto;
  proto.plan = plan;
  proto.plan.num_evals = plan.M;
  absl::StatusOr<std::vector<float>> slices;
  LayerResult load_row = Guarded(proto, [&](LayerResult p) {
    slices = LoadSlices(plan, tensor);
    if (!slices.ok()) return Failed(std::move(p), std::string(slices.status().message()));
    return p;
  });
  if (load_row.status == LayerStatus::kFailed) {
    load_row.slice_id = 0;
    return {std::move(load_row)};
  }
  // The reference scales every slice by sqrt(rf / 2) here (conv2d_count = number of
  // slices), not sqrt(1/2) as when pooling; normalize replaces it by 1/sqrt(N).
  const double scale = opt.normalize ? 1.0 / std::sqrt(static_cast<double>(plan.N))
                       : plan.type == LayerType::kConv2d
                           ? std::sqrt(static_cast<double>(plan.rf) / 2.0)
                           : 1.0;
  const size_t stride = static_cast<size_t>(plan.rows * plan.cols);
  std::vector<LayerResult> rows;
  for (int64_t s = 0; s < plan.rf; ++s) {
    LayerResult r = proto;
    r.slice_id = s;
    rows.push_back(Guarded(std::move(r), [&](LayerResult p) {
      std::vector<float> one(slices->begin() + s * stride, slices->begin() + (s + 1) * stride);
      ScaleInF32(one, scale);
      return AnalyzeMatrices(*backend_, cpu_fallback_.get(), config_, std::move(p), one, 1);
    }));
  }
  return rows;
}

}  // namespace htsr
