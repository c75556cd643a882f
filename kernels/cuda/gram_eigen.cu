// Accuracy (docs/spec.md §2), mirroring the CPU solver (kernels/cpu/eigen_solver.cc) step by step.
// kF64: the float32 input is widened to float64 on the device; each product of two
// floats is exact in float64 (24 + 24 < 53 mantissa bits), so the Gram matrix carries only
// summation rounding, and the divide-and-conquer solver is backward stable: every
// eigenvalue moves by about c * 2^-53 * lambda_max (c small). That gives 1e-9 relative
// accuracy for lambda >= kRefineBelow * lambda_max = 1e-5 * lambda_max. The values below
// that (near-null directions; squaring W squared its condition number) are recomputed
// one-sided: eigenvectors V_k of the k smallest Gram eigenvalues (Xsyevdx), B = s W V_k,
// and the singular values of the thin B (Xgesvd), whose error is ~eps * sigma_max on
// sigma: within the bound, and exact zeros stay ~1e-32 * lambda_max as with gesdd, so
// rank_loss agrees with the reference.
// kF32 runs the Gram pipeline in float32 with no refinement: the fast mode.
//
// Layout (house rule 8): the input is row-major. cuBLAS/cuSOLVER are column-major, so a
// row-major rows x cols W read with lda = cols is A = W^T: same singular values.
// launch_plan.h (PlanGram) picks the op so that the Gram matrix is always the smaller
// side's.
#include "gram_eigen.cuh"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "launch_plan.h"

namespace htsr::cuda {
namespace {

// Batches of matrices up to this order go through the batched eigensolver (one launch
// for all conv slices); larger ones are solved one by one with Xsyevd, which is already
// fully parallel on one matrix.
constexpr int64_t kBatchedEigenMaxOrder = 256;

// Same threshold as the CPU solver: below it Gram eigenvalues are refined one-sided.
constexpr double kRefineBelow = 1e-5;

__global__ void WidenKernel(const float* __restrict__ in, double* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = static_cast<double>(in[i]);
  }
}

// *first_bad = smallest index of a matrix holding a NaN or Inf (solvers can iterate on
// NaN until their sweep limit; reject such input before it reaches them).
__global__ void FirstNonFiniteKernel(const float* __restrict__ in, int64_t n, int64_t matrix_elems,
                                     unsigned long long* first_bad) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    if (!isfinite(in[i])) {
      atomicMin(first_bad, static_cast<unsigned long long>(i / matrix_elems));
    }
  }
}

// Squared singular values are >= 0; a tiny negative Gram eigenvalue is rounding.
template <typename T>
__global__ void FinishKernel(const T* __restrict__ w, double* __restrict__ out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double v = static_cast<double>(w[i]);
    out[i] = v > 0.0 ? v : 0.0;
  }
}

unsigned GridFor(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 65535));
}

template <typename T>
struct Types;
template <>
struct Types<double> {
  static constexpr cudaDataType kCuda = CUDA_R_64F;
};
template <>
struct Types<float> {
  static constexpr cudaDataType kCuda = CUDA_R_32F;
};

cublasStatus_t Syrk(cublasHandle_t h, cublasOperation_t op, int n, int k, const double* alpha,
                    const double* a, int lda, const double* beta, double* c, int ldc) {
  return cublasDsyrk(h, CUBLAS_FILL_MODE_LOWER, op, n, k, alpha, a, lda, beta, c, ldc);
}
cublasStatus_t Syrk(cublasHandle_t h, cublasOperation_t op, int n, int k, const float* alpha,
                    const float* a, int lda, const float* beta, float* c, int ldc) {
  return cublasSsyrk(h, CUBLAS_FILL_MODE_LOWER, op, n, k, alpha, a, lda, beta, c, ldc);
}
cublasStatus_t GemmBatched(cublasHandle_t h, cublasOperation_t op_a, cublasOperation_t op_b, int n,
                           int k, const double* alpha, const double* a, int lda, long long stride_a,
                           const double* beta, double* c, int ldc, long long stride_c, int count) {
  return cublasDgemmStridedBatched(h, op_a, op_b, n, n, k, alpha, a, lda, stride_a, a, lda,
                                   stride_a, beta, c, ldc, stride_c, count);
}
cublasStatus_t GemmBatched(cublasHandle_t h, cublasOperation_t op_a, cublasOperation_t op_b, int n,
                           int k, const float* alpha, const float* a, int lda, long long stride_a,
                           const float* beta, float* c, int ldc, long long stride_c, int count) {
  return cublasSgemmStridedBatched(h, op_a, op_b, n, n, k, alpha, a, lda, stride_a, a, lda,
                                   stride_a, beta, c, ldc, stride_c, count);
}

// Solver workspace for `count` Gram matrices of order m: batched when that path is taken.
struct EigenWorkspace {
  bool batched = false;
  size_t device_bytes = 0;
  size_t host_bytes = 0;
};

// HTSR_CUDA_UNBATCHED=1 forces the one-by-one solver: only for the batched-vs-unbatched
// benchmark (tests/gpu/model_bench.sh); results are the same either way.
bool BatchedSolverEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("HTSR_CUDA_UNBATCHED");
    return v == nullptr || v[0] == '\0' || v[0] == '0';
  }();
  return enabled;
}

template <typename T>
absl::StatusOr<EigenWorkspace> QueryEigenWorkspace(const SolverContext& ctx, int64_t m,
                                                   int64_t count) {
  constexpr cudaDataType kType = Types<T>::kCuda;
  EigenWorkspace ws;
  // XsyevBatched also requires n * lda * batch <= INT32_MAX.
  if (BatchedSolverEnabled() && count > 1 && m <= kBatchedEigenMaxOrder &&
      m * m * count <= std::numeric_limits<int32_t>::max()) {
    const cusolverStatus_t s = cusolverDnXsyevBatched_bufferSize(
        ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, m, kType,
        nullptr, m, kType, nullptr, kType, &ws.device_bytes, &ws.host_bytes, count);
    if (s == CUSOLVER_STATUS_SUCCESS) {
      ws.batched = true;
      return ws;
    }
    // Shapes the batched solver does not take fall through to the one-by-one solver.
    if (s != CUSOLVER_STATUS_NOT_SUPPORTED && s != CUSOLVER_STATUS_INVALID_VALUE) {
      HTSR_CUSOLVER_CHECK(s);
    }
  }
  HTSR_CUSOLVER_CHECK(cusolverDnXsyevd_bufferSize(
      ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, m, kType,
      nullptr, m, kType, nullptr, kType, &ws.device_bytes, &ws.host_bytes));
  return ws;
}

// Ascending Gram eigenvalues of every matrix, to `out` (host, count * m values).
template <typename T>
absl::Status Solve(const SolverContext& ctx, const T* d_a, int64_t count, int64_t rows,
                   int64_t cols, double scale, std::span<double> out) {
  constexpr cudaDataType kType = Types<T>::kCuda;
  const cuda_plan::GramShape g = cuda_plan::PlanGram(rows, cols);
  const int64_t m = g.m;

  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<T> gram,
                        DeviceBuffer<T>::Allocate(static_cast<size_t>(count * m * m), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<T> evals,
                        DeviceBuffer<T>::Allocate(static_cast<size_t>(count * m), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<int> info,
                        DeviceBuffer<int>::Allocate(static_cast<size_t>(count), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<double> d_out,
                        DeviceBuffer<double>::Allocate(static_cast<size_t>(count * m), ctx.stream));

  // Gram = scale^2 * (smaller-side product); only the lower triangle is read by the solver.
  const T alpha = static_cast<T>(scale * scale);
  const T beta = 0;
  const cublasOperation_t op = g.transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
  if (count == 1) {
    HTSR_CUBLAS_CHECK(Syrk(ctx.cublas, op, static_cast<int>(m), static_cast<int>(g.k), &alpha, d_a,
                           static_cast<int>(g.lda), &beta, gram.data(), static_cast<int>(m)));
  } else {
    // No batched syrk in cuBLAS: C_b = op(A_b) op(A_b)^T as one strided-batched gemm.
    const cublasOperation_t op_b = g.transpose ? CUBLAS_OP_N : CUBLAS_OP_T;
    HTSR_CUBLAS_CHECK(GemmBatched(ctx.cublas, op, op_b, static_cast<int>(m), static_cast<int>(g.k),
                                  &alpha, d_a, static_cast<int>(g.lda), rows * cols, &beta,
                                  gram.data(), static_cast<int>(m), m * m,
                                  static_cast<int>(count)));
  }

  HTSR_ASSIGN_OR_RETURN(EigenWorkspace ws, QueryEigenWorkspace<T>(ctx, m, count));
  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<char> work,
                        DeviceBuffer<char>::Allocate(ws.device_bytes, ctx.stream));
  std::vector<char> host_work(ws.host_bytes);
  const char* routine = ws.batched ? "cusolverDnXsyevBatched" : "cusolverDnXsyevd";
  if (ws.batched) {
    HTSR_CUSOLVER_CHECK(cusolverDnXsyevBatched(
        ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, m, kType,
        gram.data(), m, kType, evals.data(), kType, work.data(), ws.device_bytes, host_work.data(),
        ws.host_bytes, info.data(), count));
  } else {
    for (int64_t b = 0; b < count; ++b) {
      HTSR_CUSOLVER_CHECK(cusolverDnXsyevd(
          ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_NOVECTOR, CUBLAS_FILL_MODE_LOWER, m, kType,
          gram.data() + b * m * m, m, kType, evals.data() + b * m, kType, work.data(),
          ws.device_bytes, host_work.data(), ws.host_bytes, info.data() + b));
    }
  }
  FinishKernel<T>
      <<<GridFor(count * m, 256), 256, 0, ctx.stream>>>(evals.data(), d_out.data(), count * m);
  HTSR_CUDA_CHECK_LAUNCH("FinishKernel");

  std::vector<int> host_info(static_cast<size_t>(count));
  HTSR_CUDA_CHECK(cudaMemcpyAsync(host_info.data(), info.data(), info.bytes(),
                                  cudaMemcpyDeviceToHost, ctx.stream));
  HTSR_CUDA_CHECK(
      cudaMemcpyAsync(out.data(), d_out.data(), d_out.bytes(), cudaMemcpyDeviceToHost, ctx.stream));
  HTSR_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  for (int64_t b = 0; b < count; ++b) {
    HTSR_RETURN_IF_ERROR(SolverInfoToStatus(host_info[static_cast<size_t>(b)], routine, b));
  }
  return absl::OkStatus();
}

// Recomputes the values of `evals` (one matrix's ascending eigenvalues, host) below
// kRefineBelow * lambda_max from the singular values of B = s W V_k (see the top of the
// file). `d_a`: this matrix's float64 column-major view A = W^T.
absl::Status RefineSmall(const SolverContext& ctx, const double* d_a, int64_t rows, int64_t cols,
                         double scale, std::span<double> evals) {
  const cuda_plan::GramShape g = cuda_plan::PlanGram(rows, cols);
  const int64_t m = g.m;
  const double lambda_max = evals[static_cast<size_t>(m - 1)];
  if (!(lambda_max > 0)) return absl::OkStatus();
  int64_t k = 0;
  while (k < m && evals[static_cast<size_t>(k)] < kRefineBelow * lambda_max) ++k;
  if (k == 0) return absl::OkStatus();
  const int64_t n = g.k;  // = max(rows, cols): rows of B

  HTSR_ASSIGN_OR_RETURN(auto gram,
                        DeviceBuffer<double>::Allocate(static_cast<size_t>(m * m), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(auto w, DeviceBuffer<double>::Allocate(static_cast<size_t>(m), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(auto b,
                        DeviceBuffer<double>::Allocate(static_cast<size_t>(n * k), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(auto sv,
                        DeviceBuffer<double>::Allocate(static_cast<size_t>(k), ctx.stream));
  HTSR_ASSIGN_OR_RETURN(auto info, DeviceBuffer<int>::Allocate(2, ctx.stream));

  const double alpha = scale * scale;
  const double zero = 0.0;
  HTSR_CUBLAS_CHECK(cublasDsyrk(ctx.cublas, CUBLAS_FILL_MODE_LOWER,
                                g.transpose ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(m),
                                static_cast<int>(g.k), &alpha, d_a, static_cast<int>(g.lda), &zero,
                                gram.data(), static_cast<int>(m)));

  // Eigenvectors of the k smallest eigenvalues only (range by index 1..k).
  double vl = 0, vu = 0;
  int64_t found = 0;
  size_t dev_bytes = 0, host_bytes = 0;
  HTSR_CUSOLVER_CHECK(cusolverDnXsyevdx_bufferSize(
      ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_VECTOR, CUSOLVER_EIG_RANGE_I,
      CUBLAS_FILL_MODE_LOWER, m, CUDA_R_64F, gram.data(), m, &vl, &vu, 1, k, &found, CUDA_R_64F,
      w.data(), CUDA_R_64F, &dev_bytes, &host_bytes));
  size_t svd_dev = 0, svd_host = 0;
  HTSR_CUSOLVER_CHECK(cusolverDnXgesvd_bufferSize(
      ctx.cusolver, ctx.params, 'N', 'N', n, k, CUDA_R_64F, b.data(), n, CUDA_R_64F, sv.data(),
      CUDA_R_64F, nullptr, 1, CUDA_R_64F, nullptr, 1, CUDA_R_64F, &svd_dev, &svd_host));
  HTSR_ASSIGN_OR_RETURN(auto work,
                        DeviceBuffer<char>::Allocate(std::max(dev_bytes, svd_dev), ctx.stream));
  std::vector<char> host_work(std::max(host_bytes, svd_host));
  HTSR_CUSOLVER_CHECK(cusolverDnXsyevdx(ctx.cusolver, ctx.params, CUSOLVER_EIG_MODE_VECTOR,
                                        CUSOLVER_EIG_RANGE_I, CUBLAS_FILL_MODE_LOWER, m, CUDA_R_64F,
                                        gram.data(), m, &vl, &vu, 1, k, &found, CUDA_R_64F,
                                        w.data(), CUDA_R_64F, work.data(), work.bytes(),
                                        host_work.data(), host_work.size(), info.data()));

  // B = s * W * V_k (n x k): V_k lives on the Gram side, so
  //   cols <= rows: V_k is cols x k and W V_k = A^T V_k
  //   rows <  cols: V_k is rows x k and W^T V_k = A V_k.
  if (!g.transpose) {
    HTSR_CUBLAS_CHECK(cublasDgemm(ctx.cublas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(rows),
                                  static_cast<int>(k), static_cast<int>(cols), &scale, d_a,
                                  static_cast<int>(cols), gram.data(), static_cast<int>(m), &zero,
                                  b.data(), static_cast<int>(n)));
  } else {
    HTSR_CUBLAS_CHECK(cublasDgemm(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(cols),
                                  static_cast<int>(k), static_cast<int>(rows), &scale, d_a,
                                  static_cast<int>(cols), gram.data(), static_cast<int>(m), &zero,
                                  b.data(), static_cast<int>(n)));
  }
  HTSR_CUSOLVER_CHECK(cusolverDnXgesvd(
      ctx.cusolver, ctx.params, 'N', 'N', n, k, CUDA_R_64F, b.data(), n, CUDA_R_64F, sv.data(),
      CUDA_R_64F, nullptr, 1, CUDA_R_64F, nullptr, 1, CUDA_R_64F, work.data(), work.bytes(),
      host_work.data(), host_work.size(), info.data() + 1));
  int host_info[2] = {0, 0};
  std::vector<double> host_sv(static_cast<size_t>(k));
  HTSR_CUDA_CHECK(cudaMemcpyAsync(host_info, info.data(), sizeof(host_info), cudaMemcpyDeviceToHost,
                                  ctx.stream));
  HTSR_CUDA_CHECK(
      cudaMemcpyAsync(host_sv.data(), sv.data(), sv.bytes(), cudaMemcpyDeviceToHost, ctx.stream));
  HTSR_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  HTSR_RETURN_IF_ERROR(SolverInfoToStatus(host_info[0], "cusolverDnXsyevdx", 0));
  HTSR_RETURN_IF_ERROR(SolverInfoToStatus(host_info[1], "cusolverDnXgesvd", 0));
  if (found != k) {
    return absl::InternalError(
        absl::StrCat("cusolverDnXsyevdx returned ", found, " eigenvectors, wanted ", k));
  }
  for (int64_t i = 0; i < k; ++i) {
    const double s = host_sv[static_cast<size_t>(i)];
    evals[static_cast<size_t>(i)] = s * s;
  }
  std::sort(evals.begin(), evals.end());
  return absl::OkStatus();
}

absl::Status CheckShape(int64_t rows, int64_t cols, int64_t count) {
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  if (rows <= 0 || cols <= 0 || count <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty matrix batch: ", count, " x ", rows, "x", cols));
  }
  // cuBLAS's 32-bit API: every dimension and count must fit an int.
  if (rows > kIntMax || cols > kIntMax || count > kIntMax) {
    return absl::ResourceExhaustedError(
        absl::StrCat("matrix batch ", count, " x ", rows, "x", cols, " exceeds cuBLAS limits"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> GramEigenDeviceBytes(const SolverContext& ctx, int64_t rows, int64_t cols,
                                             int64_t count, Precision precision) {
  HTSR_RETURN_IF_ERROR(CheckShape(rows, cols, count));
  const bool f64 = precision == Precision::kF64;
  const std::optional<int64_t> pipeline = cuda_plan::GramPipelineBytes(rows, cols, count, f64);
  if (!pipeline) {
    return absl::ResourceExhaustedError(
        absl::StrCat("matrix batch ", count, " x ", rows, "x", cols, " overflows memory sizes"));
  }
  const int64_t m = std::min(rows, cols);
  EigenWorkspace ws;
  if (f64) {
    HTSR_ASSIGN_OR_RETURN(ws, QueryEigenWorkspace<double>(ctx, m, count));
  } else {
    HTSR_ASSIGN_OR_RETURN(ws, QueryEigenWorkspace<float>(ctx, m, count));
  }
  return *pipeline + static_cast<int64_t>(ws.device_bytes);
}

absl::Status GramEigenvalues(const SolverContext& ctx, const float* d_input, int64_t count,
                             int64_t rows, int64_t cols, double scale, Precision precision,
                             std::span<double> out) {
  HTSR_RETURN_IF_ERROR(CheckShape(rows, cols, count));
  const int64_t m = std::min(rows, cols);
  if (static_cast<int64_t>(out.size()) != count * m) {
    return absl::InvalidArgumentError(
        absl::StrCat("output holds ", out.size(), " values, batch needs ", count * m));
  }
  const int64_t n = count * rows * cols;
  {
    HTSR_ASSIGN_OR_RETURN(auto d_bad, DeviceBuffer<unsigned long long>::Allocate(1, ctx.stream));
    unsigned long long bad = ~0ull;
    HTSR_CUDA_CHECK(
        cudaMemcpyAsync(d_bad.data(), &bad, sizeof(bad), cudaMemcpyHostToDevice, ctx.stream));
    FirstNonFiniteKernel<<<GridFor(n, 256), 256, 0, ctx.stream>>>(d_input, n, rows * cols,
                                                                  d_bad.data());
    HTSR_CUDA_CHECK_LAUNCH("FirstNonFiniteKernel");
    HTSR_CUDA_CHECK(
        cudaMemcpyAsync(&bad, d_bad.data(), sizeof(bad), cudaMemcpyDeviceToHost, ctx.stream));
    HTSR_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
    if (bad != ~0ull) {
      return absl::InvalidArgumentError(
          absl::StrCat("matrix ", bad, " of the batch contains NaN or Inf"));
    }
  }
  if (precision == Precision::kF32) {
    return Solve<float>(ctx, d_input, count, rows, cols, scale, out);
  }
  HTSR_ASSIGN_OR_RETURN(DeviceBuffer<double> wide,
                        DeviceBuffer<double>::Allocate(static_cast<size_t>(n), ctx.stream));
  WidenKernel<<<GridFor(n, 256), 256, 0, ctx.stream>>>(d_input, wide.data(), n);
  HTSR_CUDA_CHECK_LAUNCH("WidenKernel");
  HTSR_RETURN_IF_ERROR(Solve<double>(ctx, wide.data(), count, rows, cols, scale, out));
  for (int64_t b = 0; b < count; ++b) {
    absl::Status status =
        RefineSmall(ctx, wide.data() + b * rows * cols, rows, cols, scale,
                    out.subspan(static_cast<size_t>(b * m), static_cast<size_t>(m)));
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("matrix ", b, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace htsr::cuda
