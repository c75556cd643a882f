// RAII owners of device memory and page-locked (pinned) host memory.
#ifndef HTSR_KERNELS_CUDA_DEVICE_BUFFER_CUH_
#define HTSR_KERNELS_CUDA_DEVICE_BUFFER_CUH_

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "cuda_check.cuh"

namespace htsr::cuda {

// `count` elements of T on the current device. Move-only; freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static absl::StatusOr<DeviceBuffer> Allocate(size_t count) {
    DeviceBuffer buffer;
    if (count > 0) {
      HTSR_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&buffer.data_), count * sizeof(T)));
    }
    buffer.size_ = count;
    return buffer;
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { Reset(); }

  T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

 private:
  void Reset() {
    // cudaFree can only fail for a corrupt context; nothing useful to do in a destructor.
    if (data_ != nullptr) (void)cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  size_t size_ = 0;
};

// Pinned host memory that only grows: staging for asynchronous copies, kept between
// calls because cudaMallocHost is slow.
template <typename T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { Reset(); }

  absl::Status Reserve(size_t count) {
    if (count <= capacity_) return absl::OkStatus();
    Reset();
    HTSR_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&data_), count * sizeof(T)));
    capacity_ = count;
    return absl::OkStatus();
  }
  T* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void Reset() {
    if (data_ != nullptr) (void)cudaFreeHost(data_);
    data_ = nullptr;
    capacity_ = 0;
  }
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_DEVICE_BUFFER_CUH_
