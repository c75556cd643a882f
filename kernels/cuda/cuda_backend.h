// Entry points of the CUDA backend. Plain C++ only: no CUDA types, so the engine's
// backend registry (compiled by the host compiler) can include it under HTSR_WITH_CUDA.
//
// Batched GPU queue (for the server): layers of the same shape from different callers
// (e.g. the q/k/v projections of every block, or conv slices of many layers) are best
// solved in ONE `Backend::SquaredSingularValues` call, because cuBLAS/cuSOLVER then run
// one strided-batched Gram product and one batched eigensolver instead of many small
// launches. `SquaredSingularValuesGrouped` (grouped_batch.h, included below) does the
// grouping: collect up to N jobs with equal (rows, cols), call it once with the shared
// backend, and each job's `out` receives its own ascending eigenvalues, scaled by its own
// scale^2. It works with any Backend (the CPU one too), so the queue needs no #ifdef.
//
//   std::vector<htsr::SameShapeJob> jobs = ...;   // {data, scale, out span of min(r,c)}
//   RETURN_IF_ERROR(htsr::SquaredSingularValuesGrouped(*backend, rows, cols, jobs,
//                                                      htsr::Precision::kF64));
//
// A kResourceExhausted answer means the batch does not fit the device's free memory even
// one matrix at a time: fall back to the CPU backend for those jobs.
#ifndef HTSR_KERNELS_CUDA_CUDA_BACKEND_H_
#define HTSR_KERNELS_CUDA_CUDA_BACKEND_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "grouped_batch.h"
#include "htsr/backend.h"

namespace htsr {

// Number of usable CUDA devices. Never fails: no driver, no device or any CUDA runtime
// error -> 0 (cudart is linked statically and libcuda is only dlopen'ed by it).
int CudaDeviceCountImpl();

// A backend on device `device_ordinal`. FailedPrecondition when that device does not
// exist. Thread-safe: concurrent calls run on the backend's lanes (streams; 2 unless
// HTSR_CUDA_LANES=1..8 says otherwise), the rest wait for one.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackend(int device_ordinal);

// As above, but the calls in flight together never use more than `memory_limit_bytes` of
// device memory (for tests of the CPU fallback, or a GPU shared with other processes). A
// layer that does not fit even alone returns kResourceExhausted.
absl::StatusOr<std::unique_ptr<Backend>> CreateCudaBackendWithMemoryLimit(
    int device_ordinal, int64_t memory_limit_bytes);

}  // namespace htsr

#endif  // HTSR_KERNELS_CUDA_CUDA_BACKEND_H_
