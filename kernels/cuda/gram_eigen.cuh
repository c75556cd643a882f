// Squared singular values of a batch of same-shape matrices on the device: the Gram
// matrix of the smaller side (cuBLAS syrk / strided-batched gemm) followed by cuSOLVER's
// symmetric eigensolver (Xsyevd, or XsyevBatched for batches of small matrices).
#ifndef HTSR_KERNELS_CUDA_GRAM_EIGEN_CUH_
#define HTSR_KERNELS_CUDA_GRAM_EIGEN_CUH_

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "htsr/options.h"

namespace htsr::cuda {

struct SolverContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cusolverDnHandle_t cusolver = nullptr;
  cusolverDnParams_t params = nullptr;
};

// Device bytes GramEigenvalues needs for `count` matrices of rows x cols (everything it
// allocates at its peak, the solver workspace included; the kF64 refinement of small
// eigenvalues runs after the batch buffers are freed and needs less).
absl::StatusOr<int64_t> GramEigenDeviceBytes(const SolverContext& ctx, int64_t rows, int64_t cols,
                                             int64_t count, Precision precision);

// `d_input`: `count` row-major rows x cols float32 matrices on the device. Writes the
// count * min(rows, cols) ascending squared singular values of scale * W (matrix after
// matrix) to the host span `out`. Runs on ctx.stream and synchronises it; every solver
// `info` is checked.
absl::Status GramEigenvalues(const SolverContext& ctx, const float* d_input, int64_t count,
                             int64_t rows, int64_t cols, double scale, Precision precision,
                             std::span<double> out);

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_GRAM_EIGEN_CUH_
