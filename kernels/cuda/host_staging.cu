#include "host_staging.cuh"

#include <algorithm>
#include <cstring>

namespace htsr::cuda {

absl::Status HostStaging::EnsureSlots() {
  for (int s = 0; s < 2; ++s) {
    HTSR_RETURN_IF_ERROR(slots_[s].Reserve(kSlotBytes));
    if (slot_free_[s].get() == nullptr) {
      HTSR_ASSIGN_OR_RETURN(slot_free_[s], CreateEvent());
    }
  }
  return absl::OkStatus();
}

absl::Status HostStaging::Upload(const void* host, size_t bytes, void* device,
                                 cudaStream_t stream) {
  if (bytes == 0) return absl::OkStatus();
  if (!EnsureSlots().ok()) {
    // Pinned memory is a speed-up, not a requirement: copy from pageable memory.
    HTSR_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream));
    return absl::OkStatus();
  }
  const char* src = static_cast<const char*>(host);
  char* dst = static_cast<char*>(device);
  int slot = 0;
  for (size_t offset = 0; offset < bytes; offset += kSlotBytes, slot ^= 1) {
    const size_t n = std::min(kSlotBytes, bytes - offset);
    if (slot_pending_[slot]) {
      // The DMA that last read this slot must be done before we overwrite it.
      HTSR_CUDA_CHECK(cudaEventSynchronize(slot_free_[slot].get()));
      slot_pending_[slot] = false;
    }
    std::memcpy(slots_[slot].data(), src + offset, n);
    HTSR_CUDA_CHECK(
        cudaMemcpyAsync(dst + offset, slots_[slot].data(), n, cudaMemcpyHostToDevice, stream));
    HTSR_CUDA_CHECK(cudaEventRecord(slot_free_[slot].get(), stream));
    slot_pending_[slot] = true;
  }
  return absl::OkStatus();
}

}  // namespace htsr::cuda
