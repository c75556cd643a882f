#include "cuda_check.cuh"

#include "absl/strings/str_cat.h"

namespace htsr::cuda {
namespace {

const char* CusolverStatusName(cusolverStatus_t status) {
  switch (status) {
    case CUSOLVER_STATUS_SUCCESS:
      return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED:
      return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
      return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
      return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
      return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
      return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
      return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default:
      return "CUSOLVER_STATUS_(other)";
  }
}

}  // namespace

absl::Status CudaToStatus(cudaError_t error, const char* expr, const char* file, int line) {
  if (error == cudaSuccess) return absl::OkStatus();
  const std::string message =
      absl::StrCat("CUDA error ", cudaGetErrorName(error), " (", cudaGetErrorString(error), ") in ",
                   expr, " at ", file, ":", line);
  if (error == cudaErrorMemoryAllocation) {
    // Not sticky: clear it so the next call on this thread starts clean.
    (void)cudaGetLastError();
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

absl::Status CublasToStatus(cublasStatus_t status, const char* expr, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  const std::string message = absl::StrCat("cuBLAS error ", cublasGetStatusName(status), " in ",
                                           expr, " at ", file, ":", line);
  if (status == CUBLAS_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status CusolverToStatus(cusolverStatus_t status, const char* expr, const char* file,
                              int line) {
  if (status == CUSOLVER_STATUS_SUCCESS) return absl::OkStatus();
  const std::string message = absl::StrCat("cuSOLVER error ", CusolverStatusName(status), " in ",
                                           expr, " at ", file, ":", line);
  if (status == CUSOLVER_STATUS_ALLOC_FAILED) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status SolverInfoToStatus(int info, const char* routine, int64_t matrix_index) {
  if (info == 0) return absl::OkStatus();
  if (info < 0) {
    return absl::InternalError(
        absl::StrCat(routine, ": argument ", -info, " is invalid (matrix ", matrix_index, ")"));
  }
  return absl::InternalError(absl::StrCat(routine, ": eigensolver did not converge (info ", info,
                                          ", matrix ", matrix_index, ")"));
}

}  // namespace htsr::cuda
