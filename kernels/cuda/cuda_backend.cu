// The CUDA Backend: a few "lanes" (each a stream with its own cuBLAS/cuSOLVER handles and
// pinned staging), one call per lane at a time. The engine's workers share one backend;
// one eigensolve of order 4096 leaves part of an H100 idle (tridiagonalisation is
// latency- and bandwidth-bound) and uploads wait behind it, so two calls side by side
// finish sooner than one after the other (H100, 4096 x 4096 f32 layers from 4 callers:
// 100 ms per layer with one lane, 90 with two, 87 with four; LLaMA-7B shapes end to end
// 24.6 s -> 21.5 s with two; tests/gpu/gpu_bench and model_bench.sh). Device memory is shared
// between the lanes by promises (see Begin): a call that does not fit beside the others waits and
// runs alone, never fails for want of memory that the others are about to give back.
#include "cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "cuda_check.cuh"
#include "cuda_handles.cuh"
#include "device_buffer.cuh"
#include "gram_eigen.cuh"
#include "host_staging.cuh"
#include "htsr/ks_math.h"
#include "htsr/tpl_fit.h"
#include "ks_scan.cuh"
#include "launch_plan.h"
#include "tpl_scan.cuh"

namespace htsr {
namespace {

// Memory left to cuBLAS/cuSOLVER internals, the CUDA context and other processes.
constexpr int64_t kReserveBytes = int64_t{256} << 20;

// Lanes (concurrent calls on the device): EngineConfig::cuda_lanes (--cuda-lanes) when
// given. Otherwise HTSR_CUDA_LANES=1..8, kept as a documented fallback default for the
// benchmarks that compare lane counts (tests/gpu/model_bench.sh, gpu_bench), else 2.
constexpr int kDefaultLanes = 2;

int LaneCount(int requested) {
  if (requested > 0) return std::clamp(requested, 1, kMaxCudaLanes);
  const char* v = std::getenv("HTSR_CUDA_LANES");
  if (v == nullptr || v[0] == '\0') return kDefaultLanes;
  const int n = std::atoi(v);
  return std::clamp(n, 1, kMaxCudaLanes);
}

// One stream and everything that is used on it by one call at a time.
struct Lane {
  // Declaration order = reverse destruction order: handles go before their stream.
  cuda::Stream stream;
  cuda::CublasHandle cublas;
  cuda::CusolverHandle cusolver;
  cuda::CusolverParams params;
  cuda::HostStaging staging;

  cuda::SolverContext Context() const {
    return cuda::SolverContext{stream.get(), cublas.get(), cusolver.get(), params.get()};
  }
};

class CudaBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Create(int ordinal, int64_t memory_limit,
                                                         int lanes) {
    const int count = CudaDeviceCountImpl();
    if (ordinal < 0 || ordinal >= count) {
      return absl::FailedPreconditionError(
          absl::StrCat("no CUDA device ", ordinal, " (", count, " visible)"));
    }
    auto backend = std::unique_ptr<CudaBackend>(new CudaBackend(ordinal, memory_limit, lanes));
    HTSR_RETURN_IF_ERROR(backend->Init());
    return std::unique_ptr<Backend>(std::move(backend));
  }

  ~CudaBackend() override {
    // Give the pool's cached memory back to the device (other processes may want it).
    if (pool_ != nullptr && Activate().ok()) TrimPool();
  }

  std::string_view Name() const override { return "cuda"; }
  std::string Description() const override { return description_; }

  absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale, Precision precision,
                                     std::span<double> out) override {
    if (batch.data == nullptr || batch.count <= 0 || batch.rows <= 0 || batch.cols <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("empty matrix batch (", batch.count, " x ",
                                                     batch.rows, "x", batch.cols, ")"));
    }
    if (!std::isfinite(scale)) return absl::InvalidArgumentError("non-finite scale");
    const int64_t m = std::min(batch.rows, batch.cols);
    const std::optional<int64_t> elems = cuda_plan::CheckedMul(batch.rows, batch.cols);
    const std::optional<int64_t> total =
        elems ? cuda_plan::CheckedMul(*elems, batch.count) : std::nullopt;
    const std::optional<int64_t> want = cuda_plan::CheckedMul(m, batch.count);
    if (!total || !want) return absl::InvalidArgumentError("matrix batch size overflows");
    if (static_cast<int64_t>(out.size()) != *want) {
      return absl::InvalidArgumentError(
          absl::StrCat("output holds ", out.size(), " values, batch needs ", *want));
    }

    // Largest chunk of the batch whose whole workspace fits `budget`; a query error (e.g.
    // a shape over cuBLAS limits) counts as "does not fit".
    int64_t chunk = 0;
    absl::Status last_error = absl::OkStatus();
    std::optional<int64_t> one_bytes;
    auto plan = [&](const Lane& lane, int64_t budget) -> std::optional<int64_t> {
      const cuda::SolverContext ctx = lane.Context();
      auto need = [&](int64_t c) -> std::optional<int64_t> {
        absl::StatusOr<int64_t> bytes =
            cuda::GramEigenDeviceBytes(ctx, batch.rows, batch.cols, c, precision);
        if (!bytes.ok()) {
          last_error = bytes.status();
          return std::nullopt;
        }
        if (c == 1) one_bytes = *bytes;
        return *bytes;
      };
      chunk = cuda_plan::LargestFittingChunk(batch.count, budget, need);
      return chunk > 0 ? need(chunk) : std::nullopt;
    };
    auto run = [&](const Lease& lease) -> absl::Status {
      const cuda::SolverContext ctx = lease.lane()->Context();
      for (int64_t first = 0; first < batch.count; first += chunk) {
        const int64_t c = std::min(chunk, batch.count - first);
        const size_t in_elems = static_cast<size_t>(c * *elems);
        HTSR_ASSIGN_OR_RETURN(auto d_in, cuda::DeviceBuffer<float>::Allocate(in_elems, ctx.stream));
        HTSR_RETURN_IF_ERROR(lease.lane()->staging.Upload(
            batch.data + first * *elems, in_elems * sizeof(float), d_in.data(), ctx.stream));
        HTSR_RETURN_IF_ERROR(cuda::GramEigenvalues(
            ctx, d_in.data(), c, batch.rows, batch.cols, scale, precision,
            out.subspan(static_cast<size_t>(first * m), static_cast<size_t>(c * m))));
      }
      return absl::OkStatus();
    };
    return RunOnLane(plan, run, [&] {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%dx%d matrix needs %s of GPU memory, %.1f MiB usable on %s%s", batch.rows, batch.cols,
          one_bytes ? absl::StrFormat("%.1f MiB", *one_bytes / 1048576.0) : std::string("too much"),
          UsableBytes() / 1048576.0, device_name_,
          last_error.ok() ? "" : absl::StrCat(" (", last_error.message(), ")")));
    });
  }

  absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) override {
    const int64_t n = static_cast<int64_t>(sorted.size());
    if (n < 2) {
      return absl::InvalidArgumentError(absl::StrCat("KS scan needs >= 2 values, got ", n));
    }
    // The contract (ascending, finite, above the fit threshold) is checked here on the
    // host, because the returned index refers to the caller's order.
    for (int64_t i = 0; i < n; ++i) {
      const double x = sorted[static_cast<size_t>(i)];
      if (!std::isfinite(x) || !(x > ks::kFitThreshold) ||
          (i > 0 && x < sorted[static_cast<size_t>(i - 1)])) {
        return absl::InvalidArgumentError(
            absl::StrCat("KS scan input must be finite, ascending and > ", ks::kFitThreshold,
                         "; value ", i, " is ", x));
      }
    }
    HTSR_ASSIGN_OR_RETURN(const int64_t need, cuda::KsScanDeviceBytes(n));  // incl. the upload
    auto plan = [&](const Lane&, int64_t budget) -> std::optional<int64_t> {
      return need <= budget ? std::optional<int64_t>(need) : std::nullopt;
    };
    PowerLawScan scan;
    auto run = [&](const Lease& lease) -> absl::Status {
      cudaStream_t stream = lease.lane()->stream.get();
      HTSR_ASSIGN_OR_RETURN(auto d_values,
                            cuda::DeviceBuffer<double>::Allocate(static_cast<size_t>(n), stream));
      HTSR_RETURN_IF_ERROR(lease.lane()->staging.Upload(sorted.data(), sorted.size_bytes(),
                                                        d_values.data(), stream));
      HTSR_ASSIGN_OR_RETURN(const cuda::KsScanResult r,
                            cuda::KsScanDevice(d_values.data(), n, stream));
      scan.best_index = r.best_index;
      scan.alpha = r.alpha;
      scan.D = r.D;
      return absl::OkStatus();
    };
    HTSR_RETURN_IF_ERROR(RunOnLane(plan, run, [&] {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "KS scan of %d values needs %.1f MiB of GPU memory, %.1f MiB usable on %s", n,
          need / 1048576.0, UsableBytes() / 1048576.0, device_name_));
    }));
    return scan;
  }

  absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                std::span<const int64_t> candidates) override {
    // Checked here on the host: the kernels index by the candidates without bounds checks.
    HTSR_RETURN_IF_ERROR(CheckTplScanInput(sorted, candidates));
    if (candidates.empty()) return TplScan{};
    const int64_t n = static_cast<int64_t>(sorted.size());
    const int64_t c = static_cast<int64_t>(candidates.size());
    HTSR_ASSIGN_OR_RETURN(const int64_t need, cuda::TplScanDeviceBytes(n, c));  // incl. uploads
    auto plan = [&](const Lane&, int64_t budget) -> std::optional<int64_t> {
      return need <= budget ? std::optional<int64_t>(need) : std::nullopt;
    };
    TplScan scan;
    auto run = [&](const Lease& lease) -> absl::Status {
      cudaStream_t stream = lease.lane()->stream.get();
      HTSR_ASSIGN_OR_RETURN(auto d_values,
                            cuda::DeviceBuffer<double>::Allocate(sorted.size(), stream));
      HTSR_ASSIGN_OR_RETURN(auto d_candidates,
                            cuda::DeviceBuffer<int64_t>::Allocate(candidates.size(), stream));
      HTSR_RETURN_IF_ERROR(lease.lane()->staging.Upload(sorted.data(), sorted.size_bytes(),
                                                        d_values.data(), stream));
      HTSR_RETURN_IF_ERROR(lease.lane()->staging.Upload(candidates.data(), candidates.size_bytes(),
                                                        d_candidates.data(), stream));
      HTSR_ASSIGN_OR_RETURN(
          const cuda::TplScanResult r,
          cuda::TplScanDevice(d_values.data(), n, d_candidates.data(), c, stream));
      scan.best_index = r.best_index;
      if (r.best_index >= 0) {
        scan.alpha = r.alpha;
        scan.z = r.z;
        scan.D = r.D;
      }
      return absl::OkStatus();
    };
    HTSR_RETURN_IF_ERROR(RunOnLane(plan, run, [&] {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "TPL scan of %d values needs %.1f MiB of GPU memory, %.1f MiB usable on %s", n,
          need / 1048576.0, UsableBytes() / 1048576.0, device_name_));
    }));
    return scan;
  }

 private:
  // A lane held by one call, with the device bytes promised to it; given back on
  // destruction. The lane's stream is idle then (every call synchronises before it returns,
  // and on an error path the stream-ordered frees are ordered after its work anyway).
  struct LeaseDone {
    void operator()(CudaBackend* b) const { b->End(lane, promised, alone); }
    Lane* lane;
    int64_t promised;
    bool alone;
  };
  struct Lease {
    std::unique_ptr<CudaBackend, LeaseDone> held;
    Lane* lane() const { return held.get_deleter().lane; }
    bool alone() const { return held.get_deleter().alone; }
  };
  // (lane, bytes this call may use) -> bytes of what it will run, nullopt: nothing fits.
  using Planner = std::function<std::optional<int64_t>(const Lane&, int64_t)>;

  // Plans, takes a lane and runs `run` on it. `refused()` is the error when the call does
  // not fit even alone. A run that still runs out of memory beside other calls (an
  // allocation the plan does not count: the f64 refinement's, cuBLAS's own, a fragmented
  // pool) is made once more alone, before the engine falls back to the CPU.
  template <typename Run, typename Refused>
  absl::Status RunOnLane(const Planner& plan, const Run& run, const Refused& refused) {
    for (const bool alone_only : {false, true}) {
      HTSR_ASSIGN_OR_RETURN(std::optional<Lease> lease, Begin(plan, alone_only));
      if (!lease) return refused();
      absl::Status status = run(*lease);
      if (status.code() != absl::StatusCode::kResourceExhausted || lease->alone()) return status;
    }
    return refused();  // not reached: the second pass runs alone
  }

  CudaBackend(int ordinal, int64_t memory_limit, int lanes)
      : ordinal_(ordinal), memory_limit_(memory_limit), requested_lanes_(lanes) {}

  absl::Status Init() {
    HTSR_RETURN_IF_ERROR(Activate());
    cudaDeviceProp prop{};
    HTSR_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal_));
    device_name_ = prop.name;
    int pools = 0;
    HTSR_CUDA_CHECK(cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, ordinal_));
    if (pools == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(prop.name,
                       " has no stream-ordered memory pools (needs CUDA 11.2+ and a "
                       "driver that supports them)"));
    }
    HTSR_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool_, ordinal_));
    // Keep freed blocks for the next layer instead of unmapping them at every
    // synchronisation (the default threshold, 0): UsableBytes counts them as free.
    uint64_t keep = std::numeric_limits<uint64_t>::max();
    HTSR_CUDA_CHECK(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep));
    const int lanes = LaneCount(requested_lanes_);
    for (int i = 0; i < lanes; ++i) {
      auto lane = std::make_unique<Lane>();
      HTSR_ASSIGN_OR_RETURN(lane->stream, cuda::CreateStream());
      HTSR_ASSIGN_OR_RETURN(lane->cublas, cuda::CreateCublas(lane->stream.get()));
      HTSR_ASSIGN_OR_RETURN(lane->cusolver, cuda::CreateCusolver(lane->stream.get()));
      HTSR_ASSIGN_OR_RETURN(lane->params, cuda::CreateCusolverParams());
      {
        absl::MutexLock lock(&mu_);  // no call runs yet; the lock is for the annotations
        free_lanes_.push_back(lane.get());
      }
      lanes_.push_back(std::move(lane));
    }
    description_ = absl::StrFormat("%s (device %d, %.1f GiB, sm_%d%d, %d SMs, %d lanes)", prop.name,
                                   ordinal_, prop.totalGlobalMem / 1073741824.0, prop.major,
                                   prop.minor, prop.multiProcessorCount, lanes);
    return absl::OkStatus();
  }

  // The current device is per host thread: set it on every call.
  absl::Status Activate() {
    HTSR_CUDA_CHECK(cudaSetDevice(ordinal_));
    return absl::OkStatus();
  }

  // Waits for every lane's stream, then hands the pool's unused blocks back to the device.
  void TrimPool() {
    for (const auto& lane : lanes_) (void)cudaStreamSynchronize(lane->stream.get());
    (void)cudaMemPoolTrimTo(pool_, 0);
  }

  // `bytes` less the reserve, capped by the configured limit; never negative.
  int64_t Capped(int64_t bytes) const {
    bytes -= kReserveBytes;
    if (memory_limit_ > 0) bytes = std::min(bytes, memory_limit_);
    return std::max<int64_t>(bytes, 0);
  }

  // Device bytes the calls in flight may use together: free memory plus what the pool
  // holds unused, Capped.
  int64_t UsableBytes() {
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return 0;
    uint64_t reserved = 0, used = 0;
    if (pool_ != nullptr) {
      (void)cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemCurrent, &reserved);
      (void)cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &used);
    }
    return Capped(static_cast<int64_t>(free_bytes) +
                  static_cast<int64_t>(reserved > used ? reserved - used : 0));
  }

  // Device bytes a call could ever get: all of the device's memory, Capped.
  int64_t CeilingBytes() {
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return 0;
    return Capped(static_cast<int64_t>(total_bytes));
  }

  // Takes a lane and promises this call the device bytes `plan` chose within what the
  // calls in flight have not been promised. When nothing fits beside them, the call gives
  // its lane back, waits until it can run alone (new calls wait meanwhile), hands the
  // pool's unused blocks back and plans once more with all the memory there is; a call
  // that would not fit even in all of the device's memory is refused at once, without
  // stalling the others. `alone_only`: skip the first attempt. nullopt: it does not fit.
  // Promised bytes stay counted until the call ends although its buffers show in
  // cudaMemGetInfo as soon as they are allocated: counted twice, which only makes the
  // lanes more careful.
  absl::StatusOr<std::optional<Lease>> Begin(const Planner& plan, bool alone_only) {
    for (const bool alone : {false, true}) {
      if (alone_only && !alone) continue;
      absl::ReleasableMutexLock lock(&mu_);
      if (alone) ++alone_waiting_;
      while (running_alone_ || free_lanes_.empty() ||
             (alone ? in_flight_ != 0 : alone_waiting_ != 0)) {
        cv_.Wait(&mu_);
      }
      if (alone) {
        --alone_waiting_;
        running_alone_ = true;
      }
      Lane* lane = free_lanes_.back();
      free_lanes_.pop_back();
      ++in_flight_;
      const absl::Status active = Activate();
      std::optional<int64_t> bytes;
      bool never_fits = false;
      try {
        if (active.ok()) {
          // Unused cached blocks may be too fragmented for one large buffer: give them back.
          if (alone) TrimPool();
          bytes = plan(*lane, std::max<int64_t>(UsableBytes() - promised_, 0));
          if (!bytes && !alone) never_fits = !plan(*lane, CeilingBytes());
        }
      } catch (...) {  // bad_alloc in a planner: give the lane back before it propagates
        ReleaseLocked(lane, 0, alone);
        lock.Release();
        cv_.SignalAll();
        throw;
      }
      if (active.ok() && bytes) {
        promised_ += *bytes;
        return std::optional<Lease>(
            Lease{std::unique_ptr<CudaBackend, LeaseDone>(this, LeaseDone{lane, *bytes, alone})});
      }
      ReleaseLocked(lane, 0, alone);
      lock.Release();
      cv_.SignalAll();
      if (!active.ok()) return active;
      if (never_fits) break;
    }
    return std::optional<Lease>();
  }

  void ReleaseLocked(Lane* lane, int64_t promised, bool alone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    promised_ -= promised;
    --in_flight_;
    free_lanes_.push_back(lane);
    if (alone) running_alone_ = false;
  }

  void End(Lane* lane, int64_t promised, bool alone) {
    {
      absl::MutexLock lock(&mu_);
      ReleaseLocked(lane, promised, alone);
    }
    cv_.SignalAll();
  }

  const int ordinal_;
  const int64_t memory_limit_;
  const int requested_lanes_;  // 0: LaneCount's default
  std::string device_name_;
  std::string description_;
  cudaMemPool_t pool_ = nullptr;
  std::vector<std::unique_ptr<Lane>> lanes_;

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<Lane*> free_lanes_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;      // calls holding a lane
  int alone_waiting_ ABSL_GUARDED_BY(mu_) = 0;  // calls waiting to run alone (new calls wait)
  bool running_alone_ ABSL_GUARDED_BY(mu_) = false;
  int64_t promised_ ABSL_GUARDED_BY(mu_) = 0;  // device bytes promised to the calls in flight
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int device_ordinal, int lanes) {
  return CudaBackend::Create(device_ordinal, 0, lanes);
}

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackendWithMemoryLimit(
    int device_ordinal, int64_t memory_limit_bytes, int lanes) {
  if (memory_limit_bytes <= 0) {
    return absl::InvalidArgumentError("memory limit must be positive");
  }
  return CudaBackend::Create(device_ordinal, memory_limit_bytes, lanes);
}

}  // namespace htsr
