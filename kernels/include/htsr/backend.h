// The compute backend interface: the only seam between the engine and CPU/CUDA code.
// No CUDA, protobuf or gRPC types may appear here (docs/architecture.md rule 2).
#ifndef HTSR_BACKEND_H_
#define HTSR_BACKEND_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "htsr/options.h"

namespace htsr {

// `count` same-shape matrices, each `rows x cols` float32, row-major, stored one after
// another. (Read column-major, each is its transpose: same singular values.)
struct MatrixBatch {
  const float* data = nullptr;
  int64_t count = 0;
  int64_t rows = 0;
  int64_t cols = 0;
};

// Result of the KS scan over all candidate xmins (docs/spec.md §3) on one sorted spectrum.
struct PowerLawScan {
  int64_t best_index = -1;  // index i of xmin in the sorted input; -1 when no fit
  double alpha = -1;
  double D = -1;
};

// Result of the truncated power-law xmin scan (docs/spec.md §3a) over given candidates of one
// sorted spectrum. alpha and z keep the backend's working precision (long double on the CPU,
// double on CUDA) up to the host's likelihood-ratio step, so the CPU results do not depend on
// this seam.
struct TplScan {
  int64_t best_index = -1;  // index of xmin in the sorted input; -1: no candidate has a finite D
  long double alpha = -1;
  long double z = -1;  // Lambda * xmin
  double D = -1;
};

enum class DeviceKind : uint8_t { kAuto, kCpu, kCuda };

// Where an engine computes: a kind and, for CUDA, which device (cudaSetDevice's ordinal;
// kAuto uses it too when it finds a GPU). Device::kCpu etc. are the ordinal-0 devices.
struct Device {
  DeviceKind kind = DeviceKind::kAuto;
  int ordinal = 0;

  static const Device kAuto;
  static const Device kCpu;
  static const Device kCuda;

  friend bool operator==(const Device&, const Device&) = default;
};
inline constexpr Device Device::kAuto{DeviceKind::kAuto, 0};
inline constexpr Device Device::kCpu{DeviceKind::kCpu, 0};
inline constexpr Device Device::kCuda{DeviceKind::kCuda, 0};

// "auto", "cpu", "cuda" or "cuda:N" (N = 0..1023), as --device takes it on the CLI and the
// server. InvalidArgument otherwise ("cuda:x", "cuda:-1", "gpu").
absl::StatusOr<Device> ParseDevice(std::string_view text);
// The inverse: "auto", "cpu", "cuda" (ordinal 0) or "cuda:N".
std::string DeviceName(const Device& device);

// Concurrent calls a CUDA backend runs on its own streams ("lanes").
inline constexpr int kMaxCudaLanes = 8;

class Backend {
 public:
  virtual ~Backend() = default;

  // "cpu" or "cuda".
  virtual std::string_view Name() const = 0;
  // Human-readable description of the device (CPU model / GPU name and memory).
  virtual std::string Description() const = 0;

  // Squared singular values of (scale * W) for every W in `batch`. `out` holds
  // count * min(rows, cols) values; matrix b's values are out[b*min .. (b+1)*min), ascending.
  // Precision kF64 meets docs/spec.md §2's accuracy bound; kF32 is the fast mode.
  // kResourceExhausted means "too large for this device": the caller may fall back to CPU.
  virtual absl::Status SquaredSingularValues(const MatrixBatch& batch, double scale,
                                             Precision precision, std::span<double> out) = 0;

  // KS scan over every candidate xmin of `sorted` (ascending, all > ks::kFitThreshold,
  // size >= 2): the first index with the smallest D (docs/spec.md §3).
  virtual absl::StatusOr<PowerLawScan> ScanPowerLaw(std::span<const double> sorted) = 0;

  // Truncated power-law scan of `sorted` (ascending, all > ks::kFitThreshold): for each xmin
  // index in `candidates` (strictly increasing, each the first index of its value, below the
  // first index of the largest value) the maximum-likelihood TPL of its tail and the
  // reference's KS distance; the first candidate with the smallest D (docs/spec.md §3a).
  // InvalidArgument when the input breaks that contract; kResourceExhausted: too large for
  // this device, the caller may fall back to the CPU.
  virtual absl::StatusOr<TplScan> ScanTruncatedPowerLaw(std::span<const double> sorted,
                                                        std::span<const int64_t> candidates) = 0;
};

// Number of usable CUDA devices; 0 when built without CUDA, with no driver or no device.
// Never fails (docs/architecture.md rule 3).
int CudaDeviceCount();

// The one place that picks a backend (docs/architecture.md rule 1). kAuto: CUDA when a device is
// visible, else CPU, and `note` says so. kCuda without a device: FailedPrecondition.
// `cpu_threads` bounds the CPU backend's BLAS/LAPACK and scan threads (0 = all cores).
// `cuda_lanes` (1..kMaxCudaLanes) is the CUDA backend's concurrent calls; 0 = its default
// (HTSR_CUDA_LANES when set, else 2).
absl::StatusOr<std::unique_ptr<Backend>> CreateBackend(Device device, int cpu_threads,
                                                       std::string* note, int cuda_lanes = 0);

// Always available; the reference backend.
std::unique_ptr<Backend> CreateCpuBackend(int threads);

}  // namespace htsr

#endif  // HTSR_BACKEND_H_
