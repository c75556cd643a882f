// Every CUDA runtime, cuBLAS and cuSOLVER return code becomes an absl::Status (house
// rule 5). Out-of-memory maps to kResourceExhausted so the engine can fall back to CPU.
#ifndef HTSR_KERNELS_CUDA_CUDA_CHECK_CUH_
#define HTSR_KERNELS_CUDA_CUDA_CHECK_CUH_

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstdint>

#include "absl/status/status.h"
#include "htsr/status_macros.h"

namespace htsr::cuda {

absl::Status CudaToStatus(cudaError_t error, const char* expr, const char* file, int line);
absl::Status CublasToStatus(cublasStatus_t status, const char* expr, const char* file, int line);
absl::Status CusolverToStatus(cusolverStatus_t status, const char* expr, const char* file,
                              int line);
// cuSOLVER's per-matrix `info`: < 0 is a bad argument (our bug), > 0 non-convergence.
absl::Status SolverInfoToStatus(int info, const char* routine, int64_t matrix_index);

}  // namespace htsr::cuda

#define HTSR_CUDA_CHECK(expr) \
  HTSR_RETURN_IF_ERROR(::htsr::cuda::CudaToStatus((expr), #expr, __FILE__, __LINE__))
#define HTSR_CUBLAS_CHECK(expr) \
  HTSR_RETURN_IF_ERROR(::htsr::cuda::CublasToStatus((expr), #expr, __FILE__, __LINE__))
#define HTSR_CUSOLVER_CHECK(expr) \
  HTSR_RETURN_IF_ERROR(::htsr::cuda::CusolverToStatus((expr), #expr, __FILE__, __LINE__))
// After every kernel launch: launch-configuration errors surface here, not later.
#define HTSR_CUDA_CHECK_LAUNCH(kernel_name) \
  HTSR_RETURN_IF_ERROR(                     \
      ::htsr::cuda::CudaToStatus(cudaGetLastError(), "launch " kernel_name, __FILE__, __LINE__))

#endif  // HTSR_KERNELS_CUDA_CUDA_CHECK_CUH_
