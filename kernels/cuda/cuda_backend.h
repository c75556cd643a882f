// Entry points of the CUDA backend. Plain C++ only: no CUDA types, so the engine's
// backend registry (compiled by the host compiler) can include it under HTSR_WITH_CUDA.
//
// Batches: `Backend::SquaredSingularValues` takes `count` same-shape matrices (a conv
// layer's kh*kw slices) and solves them with one strided-batched Gram product and one
// batched eigensolver (order <= 256) instead of many small launches. Layers of different
// calls are not grouped into such batches: the lanes overlap whole layers instead (see
// cuda_backend.cu), and batching gave nothing measurable on ResNet-50 shapes.
//
// A kResourceExhausted answer means the batch does not fit the device's memory even one
// matrix at a time: the engine falls back to the CPU backend for that layer.
#ifndef HTSR_KERNELS_CUDA_CUDA_BACKEND_H_
#define HTSR_KERNELS_CUDA_CUDA_BACKEND_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "htsr/backend.h"

namespace htsr {

// Number of usable CUDA devices. Never fails: no driver, no device or any CUDA runtime
// error -> 0 (cudart is linked statically and libcuda is only dlopen'ed by it).
int CudaDeviceCountImpl();

// A backend on device `device_ordinal`. FailedPrecondition when that device does not
// exist. Thread-safe: concurrent calls run on the backend's `lanes` (streams, 1..8; 0 =
// the default: HTSR_CUDA_LANES=1..8 when set, else 2), the rest wait for one.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int device_ordinal, int lanes = 0);

// As above, but the calls in flight together never use more than `memory_limit_bytes` of
// device memory (for tests of the CPU fallback, or a GPU shared with other processes). A
// layer that does not fit even alone returns kResourceExhausted.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackendWithMemoryLimit(
    int device_ordinal, int64_t memory_limit_bytes, int lanes = 0);

}  // namespace htsr

#endif  // HTSR_KERNELS_CUDA_CUDA_BACKEND_H_
