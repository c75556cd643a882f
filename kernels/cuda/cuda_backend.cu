// The CUDA Backend: owns one stream, cuBLAS/cuSOLVER handles and pinned staging per
// backend, and serialises calls with a mutex (the engine's worker threads share one
// backend; the GPU is saturated by one layer at a time anyway, and batching same-shape
// layers is the way to feed it more — see cuda_backend.h).
#include "cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cuda_check.cuh"
#include "cuda_handles.cuh"
#include "device_buffer.cuh"
#include "gram_eigen.cuh"
#include "host_staging.cuh"
#include "htsr/ks_math.h"
#include "ks_scan.cuh"
#include "launch_plan.h"

namespace htsr {
namespace {

// Memory left to cuBLAS/cuSOLVER internals, the CUDA context and other processes.
constexpr int64_t kReserveBytes = int64_t{256} << 20;

class CudaBackend final : public Backend {
 public:
  static absl::StatusOr<std::unique_ptr<Backend>> Create(int ordinal, int64_t memory_limit) {
    const int count = CudaDeviceCountImpl();
    if (ordinal < 0 || ordinal >= count) {
      return absl::FailedPreconditionError(
          absl::StrCat("no CUDA device ", ordinal, " (", count, " visible)"));
    }
    auto backend = std::unique_ptr<CudaBackend>(new CudaBackend(ordinal, memory_limit));
    RETURN_IF_ERROR(backend->Init());
    return std::unique_ptr<Backend>(std::move(backend));
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

    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Activate());
    const cuda::SolverContext ctx = Context();
    ASSIGN_OR_RETURN(const int64_t budget, Budget());
    // Largest chunk of the batch whose whole workspace fits; a query error (e.g. a shape
    // over cuBLAS limits) counts as "does not fit".
    absl::Status last_error = absl::OkStatus();
    const int64_t chunk = cuda_plan::LargestFittingChunk(
        batch.count, budget, [&](int64_t c) -> std::optional<int64_t> {
          absl::StatusOr<int64_t> bytes =
              cuda::GramEigenDeviceBytes(ctx, batch.rows, batch.cols, c, precision);
          if (!bytes.ok()) {
            last_error = bytes.status();
            return std::nullopt;
          }
          return *bytes;
        });
    if (chunk == 0) {
      absl::StatusOr<int64_t> one =
          cuda::GramEigenDeviceBytes(ctx, batch.rows, batch.cols, 1, precision);
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%dx%d matrix needs %s of GPU memory, %.1f MiB usable on %s%s", batch.rows, batch.cols,
          one.ok() ? absl::StrFormat("%.1f MiB", *one / 1048576.0) : std::string("too much"),
          budget / 1048576.0, device_name_,
          last_error.ok() ? "" : absl::StrCat(" (", last_error.message(), ")")));
    }

    for (int64_t first = 0; first < batch.count; first += chunk) {
      const int64_t c = std::min(chunk, batch.count - first);
      const size_t in_elems = static_cast<size_t>(c * *elems);
      ASSIGN_OR_RETURN(auto d_in, cuda::DeviceBuffer<float>::Allocate(in_elems));
      RETURN_IF_ERROR(staging_.Upload(batch.data + first * *elems, in_elems * sizeof(float),
                                      d_in.data(), ctx.stream));
      RETURN_IF_ERROR(cuda::GramEigenvalues(
          ctx, d_in.data(), c, batch.rows, batch.cols, scale, precision,
          out.subspan(static_cast<size_t>(first * m), static_cast<size_t>(c * m))));
    }
    return absl::OkStatus();
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

    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(Activate());
    ASSIGN_OR_RETURN(const int64_t budget, Budget());
    ASSIGN_OR_RETURN(const int64_t need, cuda::KsScanDeviceBytes(n));
    if (need > budget) {  // `need` includes the uploaded copy of `sorted`
      return absl::ResourceExhaustedError(absl::StrFormat(
          "KS scan of %d values needs %.1f MiB of GPU memory, %.1f MiB usable on %s", n,
          need / 1048576.0, budget / 1048576.0, device_name_));
    }
    ASSIGN_OR_RETURN(auto d_values, cuda::DeviceBuffer<double>::Allocate(static_cast<size_t>(n)));
    RETURN_IF_ERROR(
        staging_.Upload(sorted.data(), sorted.size_bytes(), d_values.data(), stream_.get()));
    ASSIGN_OR_RETURN(const cuda::KsScanResult r,
                     cuda::KsScanDevice(d_values.data(), n, stream_.get()));
    PowerLawScan scan;
    scan.best_index = r.best_index;
    scan.alpha = r.alpha;
    scan.D = r.D;
    return scan;
  }

 private:
  CudaBackend(int ordinal, int64_t memory_limit) : ordinal_(ordinal), memory_limit_(memory_limit) {}

  absl::Status Init() {
    RETURN_IF_ERROR(Activate());
    cudaDeviceProp prop{};
    HTSR_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal_));
    device_name_ = prop.name;
    description_ = absl::StrFormat("%s (device %d, %.1f GiB, sm_%d%d, %d SMs)", prop.name, ordinal_,
                                   prop.totalGlobalMem / 1073741824.0, prop.major, prop.minor,
                                   prop.multiProcessorCount);
    ASSIGN_OR_RETURN(stream_, cuda::CreateStream());
    ASSIGN_OR_RETURN(cublas_, cuda::CreateCublas(stream_.get()));
    ASSIGN_OR_RETURN(cusolver_, cuda::CreateCusolver(stream_.get()));
    ASSIGN_OR_RETURN(params_, cuda::CreateCusolverParams());
    return absl::OkStatus();
  }

  // The current device is per host thread: set it on every call.
  absl::Status Activate() {
    HTSR_CUDA_CHECK(cudaSetDevice(ordinal_));
    return absl::OkStatus();
  }

  // Device bytes one call may allocate: what is free now, less a reserve, capped by the
  // configured limit.
  absl::StatusOr<int64_t> Budget() {
    size_t free_bytes = 0;
    size_t total_bytes = 0;
    HTSR_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    int64_t budget = static_cast<int64_t>(free_bytes) - kReserveBytes;
    if (memory_limit_ > 0) budget = std::min(budget, memory_limit_);
    return std::max<int64_t>(budget, 0);
  }

  cuda::SolverContext Context() const {
    return cuda::SolverContext{stream_.get(), cublas_.get(), cusolver_.get(), params_.get()};
  }

  const int ordinal_;
  const int64_t memory_limit_;
  std::string device_name_;
  std::string description_;
  std::mutex mu_;
  // Declaration order = reverse destruction order: handles go before their stream.
  cuda::Stream stream_;
  cuda::CublasHandle cublas_;
  cuda::CusolverHandle cusolver_;
  cuda::CusolverParams params_;
  cuda::HostStaging staging_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int device_ordinal) {
  return CudaBackend::Create(device_ordinal, 0);
}

absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackendWithMemoryLimit(
    int device_ordinal, int64_t memory_limit_bytes) {
  if (memory_limit_bytes <= 0) {
    return absl::InvalidArgumentError("memory limit must be positive");
  }
  return CudaBackend::Create(device_ordinal, memory_limit_bytes);
}

}  // namespace htsr
