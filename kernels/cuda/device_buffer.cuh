// RAII owners of device memory and page-locked (pinned) host memory.
#ifndef HTSR_KERNELS_CUDA_DEVICE_BUFFER_CUH_
#define HTSR_KERNELS_CUDA_DEVICE_BUFFER_CUH_

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "absl/status/statusor.h"
#include "cuda_check.cuh"

namespace htsr::cuda {

// `count` elements of T on the current device, stream-ordered: allocated with
// cudaMallocAsync on `stream` and freed with cudaFreeAsync on the same stream when the
// buffer goes. Unlike cudaMalloc/cudaFree, neither synchronises the device, so solves on
// the CUDA backend's other streams keep running; freed memory stays in the device's
// default pool for the next layer (the backend raises the pool's release threshold).
// Device work that uses the buffer must be on `stream` (or ordered before its free).
// Move-only.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  static absl::StatusOr<DeviceBuffer> Allocate(size_t count, cudaStream_t stream) {
    DeviceBuffer buffer;
    if (count > 0) {
      HTSR_CUDA_CHECK(
          cudaMallocAsync(reinterpret_cast<void**>(&buffer.data_), count * sizeof(T), stream));
    }
    buffer.size_ = count;
    buffer.stream_ = stream;
    return buffer;
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        stream_(other.stream_) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      stream_ = other.stream_;
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
    // cudaFreeAsync can only fail for a corrupt context; nothing useful to do in a destructor.
    if (data_ != nullptr) (void)cudaFreeAsync(data_, stream_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
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
