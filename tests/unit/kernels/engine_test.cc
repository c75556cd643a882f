// Engine: failure rows, conv slicing/scaling, model scheduling, optional analyses, summary.
#include "htsr/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "htsr/cpu_backend.h"
#include "htsr/metrics.h"
#include "htsr/randomize.h"
#include "htsr/summary.h"

namespace htsr {
namespace {

struct OwnedTensor {
  std::shared_ptr<std::vector<float>> data;
  TensorView view;
};

OwnedTensor MakeTensor(const std::string& name, std::vector<int64_t> shape, uint64_t seed,
                       double stddev = 1.0) {
  OwnedTensor t;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.data = std::make_shared<std::vector<float>>(n);
  std::mt19937_64 rng(seed);
  std::student_t_distribution<float> dist(3.0f);
  for (float& v : *t.data) v = static_cast<float>(stddev) * dist(rng);
  t.view.info = TensorInfo{name, DType::kF32, std::move(shape)};
  t.view.bytes = std::as_bytes(std::span<const float>(*t.data));
  t.view.owner = t.data;
  return t;
}

std::unique_ptr<Engine> MakeEngine(AnalysisOptions options = {}, int threads = 2) {
  EngineConfig config;
  config.options = options;
  config.threads = threads;
  config.keep_evals = true;
  auto engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

LayerResult Analyze(const Engine& engine, const OwnedTensor& t) {
  return engine.AnalyzeLayer(PlanLayer(t.view.info, 1, engine.config().options), t.view);
}

TEST(EngineTest, NanBecomesFailedRow) {
  auto engine = MakeEngine();
  OwnedTensor t = MakeTensor("x.weight", {20, 30}, 1);
  (*t.data)[37] = std::numeric_limits<float>::quiet_NaN();
  const LayerResult r = Analyze(*engine, t);
  EXPECT_EQ(r.status, LayerStatus::kFailed);
  EXPECT_EQ(r.reason, "tensor has NaN/Inf values at element 37");
  (*t.data)[37] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Analyze(*engine, t).status, LayerStatus::kFailed);
}

TEST(EngineTest, ByteCountMismatchFails) {
  auto engine = MakeEngine();
  OwnedTensor t = MakeTensor("x.weight", {20, 30}, 1);
  t.view.bytes = t.view.bytes.first(t.view.bytes.size() - 4);
  const LayerResult r = Analyze(*engine, t);
  EXPECT_EQ(r.status, LayerStatus::kFailed);
  EXPECT_NE(r.reason.find("expected 2400 bytes, got 2396"), std::string::npos) << r.reason;
}

TEST(EngineTest, ZeroMatrixIsAFailedFitWithNormMetrics) {
  // Reference (golden degenerate.zeros): failed fit, norm 0, log_norm -inf, rank_loss M.
  auto engine = MakeEngine();
  OwnedTensor t = MakeTensor("z.weight", {40, 30}, 1);
  std::fill(t.data->begin(), t.data->end(), 0.0f);
  const LayerResult r = Analyze(*engine, t);
  EXPECT_EQ(r.status, LayerStatus::kFailed);
  EXPECT_EQ(r.warning, LayerWarning::kFailed);
  EXPECT_EQ(r.alpha, -1);
  EXPECT_EQ(r.num_pl_spikes, -1);
  EXPECT_EQ(r.norm, 0);
  EXPECT_TRUE(std::isinf(r.log_norm) && r.log_norm < 0);
  EXPECT_EQ(r.matrix_rank, 0);
  EXPECT_EQ(r.rank_loss, 30);
  EXPECT_EQ(r.weak_rank_loss, 30);
}

TEST(EngineTest, SkippedPlanIsReportedWithReason) {
  auto engine = MakeEngine();
  OwnedTensor t = MakeTensor("s.weight", {7, 30}, 1);
  const LayerResult r = Analyze(*engine, t);
  EXPECT_EQ(r.status, LayerStatus::kSkipped);
  EXPECT_EQ(r.reason, "num_evals 7 < min_evals 8");
}

// conv2d: slices W[:, :, i, j] scaled by sqrt(1/2) in f32, pooled; checked against slices
// extracted here by index arithmetic and solved with dgesdd.
TEST(EngineTest, Conv2dSlicesScaledAndPooled) {
  auto engine = MakeEngine();
  const int64_t out = 6, in = 10, kh = 2, kw = 3;
  OwnedTensor t = MakeTensor("conv.weight", {out, in, kh, kw}, 5);
  const LayerResult r = Analyze(*engine, t);
  ASSERT_EQ(r.status, LayerStatus::kSuccess) << r.reason;
  std::vector<double> want;
  for (int64_t i = 0; i < kh; ++i) {
    for (int64_t j = 0; j < kw; ++j) {
      std::vector<float> s(out * in);
      for (int64_t o = 0; o < out; ++o) {
        for (int64_t c = 0; c < in; ++c) {
          s[o * in + c] = (*t.data)[((o * in + c) * kh + i) * kw + j] * std::sqrt(0.5f);
        }
      }
      std::vector<double> ev(out);
      ASSERT_TRUE(
          cpu::SquaredSingularValues(s.data(), out, in, 1.0, cpu::EigenMethod::kGesdd, ev).ok());
      want.insert(want.end(), ev.begin(), ev.end());
    }
  }
  std::sort(want.begin(), want.end());
  ASSERT_EQ(r.evals.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(r.evals[k], want[k], 1e-12 * want.back());
  EXPECT_EQ(r.plan.N, 10);
  EXPECT_EQ(r.plan.M, 6);
  EXPECT_EQ(r.plan.rf, 6);
}

TEST(EngineTest, NormalizeDividesEigenvaluesByN) {
  AnalysisOptions norm;
  norm.normalize = true;
  OwnedTensor t = MakeTensor("x.weight", {30, 50}, 9);
  const LayerResult a = Analyze(*MakeEngine(), t);
  const LayerResult b = Analyze(*MakeEngine(norm), t);
  ASSERT_EQ(a.evals.size(), b.evals.size());
  for (size_t k = 0; k < a.evals.size(); ++k)
    EXPECT_NEAR(b.evals[k], a.evals[k] / 50, 1e-6 * a.evals[k] / 50);
}

TensorSource MakeSource(std::vector<OwnedTensor>* store, std::atomic<int>* loads) {
  TensorSource src;
  for (const OwnedTensor& t : *store) src.tensors.push_back(t.view.info);
  src.load = [store, loads](size_t i) -> absl::StatusOr<TensorView> {
    ++*loads;
    if ((*store)[i].view.info.name == "broken.weight") {
      return absl::DataLossError("broken.weight: truncated at offset 12");
    }
    return (*store)[i].view;
  };
  return src;
}

TEST(EngineTest, AnalyzeModelOrdersResultsAndSerialisesCallbacks) {
  std::vector<OwnedTensor> store;
  store.push_back(MakeTensor("big.weight", {700, 700}, 1));  // large-layer path
  store.push_back(MakeTensor("a.bias", {700}, 2));           // not a candidate
  for (int i = 0; i < 6; ++i)
    store.push_back(MakeTensor(absl::StrCat("l", i, ".weight"), {40 + i, 60}, 10 + i));
  store.push_back(MakeTensor("tiny.weight", {4, 60}, 3));     // skipped
  store.push_back(MakeTensor("broken.weight", {30, 30}, 4));  // load error
  std::atomic<int> loads{0};
  const TensorSource src = MakeSource(&store, &loads);
  auto engine = MakeEngine({}, 2);
  int calls = 0;
  bool inside = false, overlapped = false;
  ModelCallbacks cb;
  cb.on_layer = [&](const LayerResult&) {
    if (inside) overlapped = true;
    inside = true;
    ++calls;
    inside = false;
  };
  const std::vector<LayerResult> results = AnalyzeModel(*engine, src, cb);
  ASSERT_EQ(results.size(), 9u);
  EXPECT_EQ(calls, 9);
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(loads.load(), 8);  // the skipped layer is never loaded
  for (size_t k = 0; k < results.size(); ++k)
    EXPECT_EQ(results[k].plan.layer_id, static_cast<int>(k) + 1);
  EXPECT_EQ(results[0].plan.name, "big");  // the reference names layers without ".weight"
  EXPECT_EQ(results[0].plan.tensor_name, "big.weight");
  EXPECT_EQ(results[0].status, LayerStatus::kSuccess);
  EXPECT_EQ(results[7].status, LayerStatus::kSkipped);
  EXPECT_EQ(results[8].status, LayerStatus::kFailed);
  EXPECT_EQ(results[8].reason, "broken.weight: truncated at offset 12");

  // Same numbers with one worker.
  const std::vector<LayerResult> serial = AnalyzeModel(*MakeEngine({}, 1), src);
  for (size_t k = 0; k < results.size(); ++k) {
    EXPECT_EQ(serial[k].status, results[k].status);
    if (results[k].status == LayerStatus::kSuccess) {
      EXPECT_NEAR(serial[k].alpha, results[k].alpha, 1e-12 * results[k].alpha);
    }
  }
  const ModelSummary s = Summarize(results);
  EXPECT_EQ(s.num_layers, 9);
  EXPECT_EQ(s.num_analyzed, 7);
  EXPECT_EQ(s.num_skipped, 1);
  EXPECT_EQ(s.num_failed, 1);
  double mean_alpha = 0;
  for (int k = 0; k < 7; ++k) mean_alpha += results[k].alpha / 7;
  EXPECT_NEAR(s.alpha, mean_alpha, 1e-12);
}

// A stand-in for a device with little memory: refuses (kResourceExhausted) any batch above
// `max_elements`, as the CUDA backend does under its memory budget, fails every KS scan
// when told to, and otherwise computes on the CPU. Counts what it was asked.
class SmallDeviceBackend final : public Backend {
 public:
  SmallDeviceBackend(int64_t max_elements, absl::Status solve_error, bool fail_scans)
      : max_elements_(max_elements),
        solve_error_(std::move(solve_error)),
        fail_scans_(fail_scans),
        cpu_(CreateCpuBackend(1)) {}
  std::string_view Name() const override { return "small-device"; }
  std::string Description() const override { return "test device"; }
  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    ++solves;
    if (!solve_error_.ok()) return solve_error_;
    if (batch.count * batch.rows * batch.cols > max_elements_) {
      ++refused;
      return absl::ResourceExhaustedError("needs more device memory than the budget");
    }
    return cpu_->SquaredSingularValues(batch, scale, precision, out);
  }
  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    ++scans;
    if (fail_scans_) return absl::InternalError("kernel launch failed");
    return cpu_->ScanPowerLaw(sorted);
  }
  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    ++tpl_scans;
    if (fail_scans_) return absl::ResourceExhaustedError("TPL scan needs more device memory");
    return cpu_->ScanTruncatedPowerLaw(sorted, candidates);
  }
  std::atomic<int> solves{0}, refused{0}, scans{0}, tpl_scans{0};

 private:
  const int64_t max_elements_;
  const absl::Status solve_error_;
  const bool fail_scans_;
  std::unique_ptr<Backend> cpu_;
};

std::unique_ptr<Engine> EngineOn(std::unique_ptr<Backend> backend) {
  EngineConfig config;
  config.threads = 1;
  config.keep_evals = true;
  return Engine::CreateWithBackend(config, std::move(backend));
}

TEST(EngineFallbackTest, LayerTheDeviceRefusesIsSolvedOnTheCpuAndNamed) {
  OwnedTensor small = MakeTensor("small.weight", {40, 60}, 31);
  OwnedTensor big = MakeTensor("enc.big.weight", {300, 200}, 32);
  auto device = std::make_unique<SmallDeviceBackend>(10000, absl::OkStatus(), false);
  SmallDeviceBackend* dev = device.get();
  auto engine = EngineOn(std::move(device));
  auto cpu = MakeEngine({}, 1);

  ::testing::internal::CaptureStderr();
  const LayerResult got_small = Analyze(*engine, small);
  const std::string quiet = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(quiet, "");  // fits the device: no fallback, nothing said
  EXPECT_EQ(dev->refused.load(), 0);

  ::testing::internal::CaptureStderr();
  const LayerResult got_big = Analyze(*engine, big);
  const std::string said = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(dev->refused.load(), 1);
  EXPECT_NE(said.find("'enc.big.weight' solved on the CPU"), std::string::npos) << said;
  EXPECT_NE(said.find("needs more device memory"), std::string::npos) << said;

  // Not a failed row: the same numbers the CPU engine computes on its own.
  for (const auto& [got, tensor] : {std::pair{&got_small, &small}, std::pair{&got_big, &big}}) {
    const LayerResult want = Analyze(*cpu, *tensor);
    ASSERT_EQ(got->status, LayerStatus::kSuccess) << got->reason;
    EXPECT_EQ(got->evals, want.evals);
    EXPECT_EQ(got->alpha, want.alpha);
    EXPECT_EQ(got->xmin, want.xmin);
    EXPECT_EQ(got->D, want.D);
  }
}

TEST(EngineFallbackTest, FailedDeviceScanIsRedoneOnTheCpu) {
  OwnedTensor t = MakeTensor("x.weight", {80, 120}, 33);
  auto device = std::make_unique<SmallDeviceBackend>(1 << 30, absl::OkStatus(), true);
  SmallDeviceBackend* dev = device.get();
  auto engine = EngineOn(std::move(device));
  const LayerResult got = Analyze(*engine, t);
  const LayerResult want = Analyze(*MakeEngine({}, 1), t);
  EXPECT_GE(dev->scans.load(), 1);
  ASSERT_EQ(got.status, LayerStatus::kSuccess) << got.reason;
  EXPECT_EQ(got.alpha, want.alpha);
  EXPECT_EQ(got.D, want.D);
}

TEST(EngineFallbackTest, RefusedDeviceTplScanIsRedoneOnTheCpuAndNamed) {
  OwnedTensor t = MakeTensor("tpl.weight", {60, 90}, 34);
  AnalysisOptions options;
  options.fit = FitType::kTruncatedPowerLaw;
  auto device = std::make_unique<SmallDeviceBackend>(1 << 30, absl::OkStatus(), true);
  SmallDeviceBackend* dev = device.get();
  EngineConfig config;
  config.threads = 1;
  config.options = options;
  auto engine = Engine::CreateWithBackend(config, std::move(device));
  ::testing::internal::CaptureStderr();
  const LayerResult got = Analyze(*engine, t);
  const std::string said = ::testing::internal::GetCapturedStderr();
  const LayerResult want = Analyze(*MakeEngine(options, 1), t);
  EXPECT_EQ(dev->tpl_scans.load(), 1);
  EXPECT_EQ(dev->scans.load(), 0);  // the TPL fit does not run the power-law scan
  EXPECT_NE(said.find("'tpl.weight' TPL scan on the CPU"), std::string::npos) << said;
  ASSERT_EQ(got.status, LayerStatus::kSuccess) << got.reason;
  // The CPU's own numbers, bit for bit.
  EXPECT_EQ(got.alpha, want.alpha);
  EXPECT_EQ(got.Lambda, want.Lambda);
  EXPECT_EQ(got.xmin, want.xmin);
  EXPECT_EQ(got.D, want.D);
  EXPECT_EQ(got.tpl_R, want.tpl_R);
}

TEST(EngineFallbackTest, OtherDeviceErrorsAreAFailedRowNotAFallback) {
  // A solver that broke is not "too large": retrying elsewhere would hide a real fault.
  OwnedTensor t = MakeTensor("x.weight", {30, 50}, 34);
  auto device =
      std::make_unique<SmallDeviceBackend>(1 << 30, absl::InternalError("cusolver: info=7"), false);
  auto engine = EngineOn(std::move(device));
  const LayerResult got = Analyze(*engine, t);
  EXPECT_EQ(got.status, LayerStatus::kFailed);
  EXPECT_NE(got.reason.find("cusolver: info=7"), std::string::npos) << got.reason;
}

// Computes on the CPU under any name, holding each solve for a while, and records how
// many solves were in flight at once.
class InFlightBackend final : public Backend {
 public:
  explicit InFlightBackend(std::string name) : name_(std::move(name)), cpu_(CreateCpuBackend(1)) {}
  std::string_view Name() const override { return name_; }
  std::string Description() const override { return "test backend"; }
  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    const int now = ++in_flight_;
    for (int seen = max_in_flight.load();
         now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    absl::Status s = cpu_->SquaredSingularValues(batch, scale, precision, out);
    --in_flight_;
    return s;
  }
  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    return cpu_->ScanPowerLaw(sorted);
  }
  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    return cpu_->ScanTruncatedPowerLaw(sorted, candidates);
  }
  std::atomic<int> max_in_flight{0};

 private:
  const std::string name_;
  std::atomic<int> in_flight_{0};
  std::unique_ptr<Backend> cpu_;
};

// Large layers are solved one at a time on the CPU backend (all BLAS threads each), but on
// a device every layer goes to the worker pool, so that the host work of the next layers
// overlaps the current solve. The server takes the same rule from SolvesAlone: when it
// held a lock around each large GPU layer instead, LLaMA-7B shapes took twice as long.
TEST(EngineTest, LargeLayersRunSideBySideOnlyOnADevice) {
  std::vector<OwnedTensor> store;
  for (int i = 0; i < 4; ++i) {
    store.push_back(MakeTensor(absl::StrCat("l", i, ".weight"), {2048, 512}, 40 + i));
  }
  std::atomic<int> loads{0};
  const TensorSource src = MakeSource(&store, &loads);
  const LayerPlan plan = PlanLayer(store[0].view.info, 1, AnalysisOptions{});
  ASSERT_TRUE(IsLargeLayer(plan));
  EngineConfig config;
  config.threads = 4;
  for (const std::string name : {"cpu", "test-device"}) {
    auto backend = std::make_unique<InFlightBackend>(name);
    InFlightBackend* probe = backend.get();
    auto engine = Engine::CreateWithBackend(config, std::move(backend));
    const bool on_cpu = name == "cpu";
    EXPECT_EQ(SolvesAlone(*engine, plan), on_cpu) << name;
    for (const LayerResult& r : AnalyzeModel(*engine, src)) {
      EXPECT_EQ(r.status, LayerStatus::kSuccess) << r.reason;
    }
    if (on_cpu) {
      EXPECT_EQ(probe->max_in_flight.load(), 1);
    } else {
      EXPECT_GT(probe->max_in_flight.load(), 1);
    }
  }
}

TEST(EngineTest, RandomizeIsSeededAndSane) {
  AnalysisOptions opt;
  opt.randomize = true;
  opt.seed = 17;
  OwnedTensor t = MakeTensor("x.weight", {120, 200}, 21);
  const LayerResult a = Analyze(*MakeEngine(opt), t);
  const LayerResult b = Analyze(*MakeEngine(opt), t);
  ASSERT_EQ(a.status, LayerStatus::kSuccess);
  ASSERT_TRUE(a.rand_distance.has_value());
  EXPECT_EQ(*a.rand_distance, *b.rand_distance);
  EXPECT_EQ(*a.max_rand_eval, *b.max_rand_eval);
  // i.i.d. entries: shuffling keeps the distribution, so the randomized spectrum is close.
  EXPECT_GT(*a.ww_softrank, 0.3);
  EXPECT_LT(*a.ww_softrank, 1.5);
  EXPECT_LT(*a.rand_distance, 0.2);
  opt.seed = 18;
  EXPECT_NE(*Analyze(*MakeEngine(opt), t).max_rand_eval, *a.max_rand_eval);
}

TEST(MetricsTest, JensenShannonClosedForms) {
  const std::vector<double> p = {1, 2, 3};
  EXPECT_EQ(JensenShannonDistance(p, p), 0.0);
  // Disjoint supports: divergence ln 2.
  EXPECT_NEAR(JensenShannonDistance(std::vector<double>{1, 0}, std::vector<double>{0, 1}),
              std::sqrt(std::log(2.0)), 1e-15);
}

TEST(MetricsTest, DetXClosedForm) {
  // n = 4, sum = 4 -> no rescaling: values 0.25, 0.75, 1, 2 ; from the top: 2, 2*1, 2*1*0.75
  // = 1.5, 1.5 * 0.25 < 1 at idx 0 — but the scan stops at idx 1, so no break: num = 4,
  // idx stays 1 (the reference's loop variable).
  DetX d = ComputeDetX(std::vector<double>{0.25, 0.75, 1, 2});
  EXPECT_EQ(d.num, 4);
  EXPECT_EQ(d.val, 0.75);
  // 0.5, 0.5, 0.5, 2.5 (sum 4): 2.5, then 2.5 * 0.5 = 1.25, then 0.625 < 1 at idx 1.
  d = ComputeDetX(std::vector<double>{0.5, 0.5, 0.5, 2.5});
  EXPECT_EQ(d.num, 3);
  EXPECT_EQ(d.val, 0.5);
  EXPECT_DOUBLE_EQ(d.val_rescaled, 0.5);
  EXPECT_EQ(ComputeDetX(std::vector<double>{1, 1, 1}).num, 0);  // flat spectrum
  // Rescaling: sum 8, n = 4 -> l = lambda / 2.
  d = ComputeDetX(std::vector<double>{1, 1, 1, 5});
  EXPECT_EQ(d.num, 3);  // 2.5, 1.25, 0.625
  EXPECT_DOUBLE_EQ(d.val, 1.0);
  EXPECT_DOUBLE_EQ(d.val_rescaled, 0.5);
}

}  // namespace
}  // namespace htsr
