// The one place that picks a compute backend (docs/architecture.md rule 1).
#include <memory>
#include <string>

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

absl::StatusOr<std::unique_ptr<Backend>> CreateBackend(Device device, int cpu_threads,
                                                       std::string* note) {
  std::string unused;
  if (note == nullptr) note = &unused;
  note->clear();
  switch (device) {
    case Device::kCpu:
      return CreateCpuBackend(cpu_threads);
    case Device::kCuda: {
#ifdef HTSR_WITH_CUDA
      if (CudaDeviceCount() == 0) {
        return absl::FailedPreconditionError("--device cuda: no usable CUDA device found");
      }
      return CreateCudaBackend(0);
#else
      return absl::FailedPreconditionError(
          "--device cuda: this htsr was built without CUDA support");
#endif
    }
    case Device::kAuto: {
#ifdef HTSR_WITH_CUDA
      if (CudaDeviceCount() > 0) {
        absl::StatusOr<std::unique_ptr<Backend>> cuda = CreateCudaBackend(0);
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
