// The one place that picks a compute backend (docs/architecture.md rule 1).
#include <charconv>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/backend.h"
#include "htsr/cpu_backend.h"

#ifdef HTSR_WITH_CUDA
#include "../cuda/cuda_backend.h"
#endif

namespace htsr {

int CudaDeviceCount() {
#ifdef HTSR_WITH_CUDA
  return CudaDeviceCountImpl();
#else
  return 0;
#endif
}

std::unique_ptr<Backend> CreateCpuBackend(int threads) { return cpu::NewCpuBackend(threads); }

absl::StatusOr<Device> ParseDevice(std::string_view text) {
  if (text == "auto") return Device::kAuto;
  if (text == "cpu") return Device::kCpu;
  if (text == "cuda") return Device::kCuda;
  constexpr std::string_view kCudaPrefix = "cuda:";
  if (text.substr(0, kCudaPrefix.size()) == kCudaPrefix) {
    const std::string_view digits = text.substr(kCudaPrefix.size());
    int ordinal = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ordinal);
    // Digits only (from_chars takes a leading '-'), and a plausible device number.
    if (!digits.empty() && digits[0] != '-' && ec == std::errc() &&
        end == digits.data() + digits.size() && ordinal <= 1023) {
      return Device{DeviceKind::kCuda, ordinal};
    }
  }
  return absl::InvalidArgumentError("expected auto, cpu, cuda or cuda:N (N a device number)");
}

std::string DeviceName(const Device& device) {
  switch (device.kind) {
    case DeviceKind::kAuto:
      return "auto";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return device.ordinal == 0 ? "cuda" : absl::StrCat("cuda:", device.ordinal);
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Backend>> CreateBackend(Device device, int cpu_threads,
                                                       std::string* note, int cuda_lanes) {
  std::string unused;
  if (note == nullptr) note = &unused;
  note->clear();
  if (cuda_lanes < 0 || cuda_lanes > kMaxCudaLanes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA lanes must be 1..", kMaxCudaLanes, " (0: default), got ", cuda_lanes));
  }
  switch (device.kind) {
    case DeviceKind::kCpu:
      return CreateCpuBackend(cpu_threads);
    case DeviceKind::kCuda: {
#ifdef HTSR_WITH_CUDA
      if (CudaDeviceCount() == 0) {
        return absl::FailedPreconditionError("--device cuda: no usable CUDA device found");
      }
      return CreateCudaBackend(device.ordinal, cuda_lanes);
#else
      return absl::FailedPreconditionError(
          "--device cuda: this htsr was built without CUDA support");
#endif
    }
    case DeviceKind::kAuto: {
#ifdef HTSR_WITH_CUDA
      if (CudaDeviceCount() > 0) {
        absl::StatusOr<std::unique_ptr<Backend>> cuda =
            CreateCudaBackend(device.ordinal, cuda_lanes);
        if (cuda.ok()) return cuda;
        *note = absl::StrCat("CUDA backend unavailable (", cuda.status().message(), "): using cpu");
      } else {
        *note = "no CUDA device: using cpu";
      }
#else
      *note = "built without CUDA: using cpu";
#endif
      return CreateCpuBackend(cpu_threads);
    }
  }
  return absl::InvalidArgumentError("unknown device");
}

}  // namespace htsr
