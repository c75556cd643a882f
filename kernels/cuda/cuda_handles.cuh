// RAII owners of CUDA streams and events and of cuBLAS / cuSOLVER handles.
#ifndef HTSR_KERNELS_CUDA_CUDA_HANDLES_CUH_
#define HTSR_KERNELS_CUDA_CUDA_HANDLES_CUH_

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <utility>

#include "absl/status/statusor.h"
#include "cuda_check.cuh"

namespace htsr::cuda {

// Owns one handle of type H, destroyed with `Destroy` (whose return code cannot be acted
// on in a destructor and is ignored).
template <typename H, auto Destroy>
class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(H handle) : handle_(handle), owned_(true) {}
  UniqueHandle(UniqueHandle&& other) noexcept
      : handle_(other.handle_), owned_(std::exchange(other.owned_, false)) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = other.handle_;
      owned_ = std::exchange(other.owned_, false);
    }
    return *this;
  }
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  ~UniqueHandle() { Reset(); }

  H get() const { return handle_; }

 private:
  void Reset() {
    if (owned_) (void)Destroy(handle_);
    owned_ = false;
  }
  H handle_{};
  bool owned_ = false;
};

using Stream = UniqueHandle<cudaStream_t, &cudaStreamDestroy>;
using Event = UniqueHandle<cudaEvent_t, &cudaEventDestroy>;
using CublasHandle = UniqueHandle<cublasHandle_t, &cublasDestroy>;
using CusolverHandle = UniqueHandle<cusolverDnHandle_t, &cusolverDnDestroy>;
using CusolverParams = UniqueHandle<cusolverDnParams_t, &cusolverDnDestroyParams>;

// Non-blocking: does not synchronise with the legacy default stream of other libraries.
inline absl::StatusOr<Stream> CreateStream() {
  cudaStream_t s = nullptr;
  HTSR_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return Stream(s);
}

inline absl::StatusOr<Event> CreateEvent(bool timing = false) {
  cudaEvent_t e = nullptr;
  HTSR_CUDA_CHECK(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming));
  return Event(e);
}

inline absl::StatusOr<CublasHandle> CreateCublas(cudaStream_t stream) {
  cublasHandle_t h = nullptr;
  HTSR_CUBLAS_CHECK(cublasCreate(&h));
  CublasHandle handle(h);
  HTSR_CUBLAS_CHECK(cublasSetStream(h, stream));
  // Default math: no TF32 for float32 (that needs CUBLAS_TF32_TENSOR_OP_MATH), while
  // float64 may still use the IEEE-exact FP64 tensor cores. kF32 means IEEE float32.
  HTSR_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  return handle;
}

inline absl::StatusOr<CusolverHandle> CreateCusolver(cudaStream_t stream) {
  cusolverDnHandle_t h = nullptr;
  HTSR_CUSOLVER_CHECK(cusolverDnCreate(&h));
  CusolverHandle handle(h);
  HTSR_CUSOLVER_CHECK(cusolverDnSetStream(h, stream));
  return handle;
}

inline absl::StatusOr<CusolverParams> CreateCusolverParams() {
  cusolverDnParams_t p = nullptr;
  HTSR_CUSOLVER_CHECK(cusolverDnCreateParams(&p));
  return CusolverParams(p);
}

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_CUDA_HANDLES_CUH_
