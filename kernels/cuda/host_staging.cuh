// Host -> device copies through pinned staging buffers. Layer tensors arrive in pageable
// (often memory-mapped) host memory; copying them in slices through two pinned buffers
// lets the host memcpy of slice s+1 overlap the DMA of slice s.
#ifndef HTSR_KERNELS_CUDA_HOST_STAGING_CUH_
#define HTSR_KERNELS_CUDA_HOST_STAGING_CUH_

#include <cuda_runtime.h>

#include <cstddef>

#include "absl/status/status.h"
#include "cuda_handles.cuh"
#include "device_buffer.cuh"

namespace htsr::cuda {

class HostStaging {
 public:
  static constexpr size_t kSlotBytes = size_t{8} << 20;

  HostStaging() = default;
  HostStaging(const HostStaging&) = delete;
  HostStaging& operator=(const HostStaging&) = delete;

  // Enqueues the copy of `bytes` from pageable `host` to `device` on `stream`. `host` may
  // be reused as soon as this returns; the device copy completes in stream order.
  absl::Status Upload(const void* host, size_t bytes, void* device, cudaStream_t stream);

 private:
  absl::Status EnsureSlots();

  PinnedBuffer<char> slots_[2];
  Event slot_free_[2];
  bool slot_pending_[2] = {false, false};
};

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_HOST_STAGING_CUH_
