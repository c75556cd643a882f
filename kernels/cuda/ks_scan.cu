// KS scan kernels. Pipeline: radix sort -> logs -> double-double suffix sums of ln x
// (alpha_i in O(1) per candidate) -> one block per candidate computing D_i as a
// max-reduction over its tail -> one block choosing the first argmin. The per-element
// math is ks_math.h's, shared with the CPU scan, so both evaluate the same expressions.
#include "ks_scan.cuh"

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "htsr/ks_math.h"
#include "launch_plan.h"

namespace htsr::cuda {
namespace {

// A double-double number hi + lo. Summing ln x in double-double makes the suffix sums
// exact to ~2^-100 relative regardless of summation order, so the GPU's tree-shaped scan
// and the CPU's sequential sum round to the same double (alpha to ~1e-15 relative).
struct DoubleDouble {
  double hi;
  double lo;
};

struct DoubleDoubleAdd {
  __host__ __device__ DoubleDouble operator()(const DoubleDouble& a, const DoubleDouble& b) const {
    // Knuth's TwoSum of the high parts (no multiplications, so no FMA contraction issue),
    // then the low parts, then renormalise.
    const double s = a.hi + b.hi;
    const double bb = s - a.hi;
    const double err = (a.hi - (s - bb)) + (b.hi - bb);
    const double lo = err + a.lo + b.lo;
    const double hi = s + lo;
    return DoubleDouble{hi, lo - (hi - s)};
  }
};

// logs[i] = ln x_i (ascending order); reversed[j] = ln x_{n-1-j} as a double-double, so an
// inclusive scan of `reversed` gives suffix sums: S_i = scan[n-1-i].
__global__ void LogKernel(const double* __restrict__ sorted, double* __restrict__ logs,
                          DoubleDouble* __restrict__ reversed, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double l = log(sorted[i]);
    logs[i] = l;
    reversed[n - 1 - i] = DoubleDouble{l, 0.0};
  }
}

// Block i handles candidate i: alpha_i from the suffix sum, then
// D_i = max_m KsTerm(...) over the k = n - i tail points, reduced across the block.
// A NaN term is skipped, as std::max(d, t) skips it in the CPU scan.
__global__ void CandidateKernel(const double* __restrict__ sorted, const double* __restrict__ logs,
                                const DoubleDouble* __restrict__ suffix, int64_t n,
                                double* __restrict__ alphas, double* __restrict__ ds) {
  const int64_t i = blockIdx.x;
  const int64_t k = n - i;
  const DoubleDouble s = suffix[n - 1 - i];
  const double log_xmin = logs[i];
  // An all-equal tail has a zero denominator exactly (alpha = inf), whatever the rounding
  // of the suffix sum; same rule as the CPU scan.
  const double alpha = sorted[i] == sorted[n - 1] ? INFINITY : ks::Alpha(k, s.hi + s.lo, log_xmin);

  double best = 0.0;
  if (!(alpha > 1.0)) {
    best = 1.0;  // docs/spec.md §3: D_i = 1 when alpha_i <= 1 (and for a NaN alpha, as on the CPU).
  } else {
    for (int64_t m = threadIdx.x; m < k; m += blockDim.x) {
      const double t = ks::KsTerm(logs[i + m], log_xmin, alpha, m, k);
      if (t > best) best = t;
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      const double other = __shfl_down_sync(0xffffffffu, best, offset);
      if (other > best) best = other;
    }
    __shared__ double warp_best[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    if (lane == 0) warp_best[warp] = best;
    __syncthreads();
    if (warp == 0) {
      const int warps = static_cast<int>(blockDim.x >> 5);
      best = lane < warps ? warp_best[lane] : 0.0;
      for (int offset = 16; offset > 0; offset >>= 1) {
        const double other = __shfl_down_sync(0xffffffffu, best, offset);
        if (other > best) best = other;
      }
    }
  }
  if (threadIdx.x == 0) {
    alphas[i] = alpha;
    ds[i] = best;
  }
}

constexpr int kArgminThreads = 1024;

// Ordering key of a D value: a NaN D (never expected: terms that are NaN are skipped)
// sorts first, like numpy's argmin and the CPU scan.
__device__ __forceinline__ double ArgminKey(double d) { return isnan(d) ? -1.0 : d; }

// First index with the smallest D (ties -> smallest index, docs/spec.md §3).
__global__ void ArgminKernel(const double* __restrict__ alphas, const double* __restrict__ ds,
                             int64_t candidates, KsScanResult* __restrict__ result) {
  __shared__ double best_d[kArgminThreads];
  __shared__ int64_t best_i[kArgminThreads];
  double d_min = std::numeric_limits<double>::infinity();
  int64_t i_min = -1;
  // Each thread visits increasing indices, so a strict `<` keeps its first minimum.
  for (int64_t i = threadIdx.x; i < candidates; i += blockDim.x) {
    const double d = ArgminKey(ds[i]);
    if (d < d_min) {
      d_min = d;
      i_min = i;
    }
  }
  best_d[threadIdx.x] = d_min;
  best_i[threadIdx.x] = i_min;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      const double d = best_d[threadIdx.x + stride];
      const int64_t idx = best_i[threadIdx.x + stride];
      const int64_t mine = best_i[threadIdx.x];
      if (idx >= 0 &&
          (mine < 0 || d < best_d[threadIdx.x] || (d == best_d[threadIdx.x] && idx < mine))) {
        best_d[threadIdx.x] = d;
        best_i[threadIdx.x] = idx;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const int64_t idx = best_i[0];
    result->best_index = idx;
    result->alpha = idx >= 0 ? alphas[idx] : -1.0;
    result->D = idx >= 0 ? ds[idx] : -1.0;
  }
}

unsigned GridFor(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

absl::StatusOr<size_t> CubTempBytes(int64_t n) {
  size_t sort_bytes = 0;
  size_t scan_bytes = 0;
  HTSR_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(
      nullptr, sort_bytes, static_cast<const double*>(nullptr), static_cast<double*>(nullptr), n));
  HTSR_CUDA_CHECK(
      cub::DeviceScan::InclusiveScan(nullptr, scan_bytes, static_cast<const DoubleDouble*>(nullptr),
                                     static_cast<DoubleDouble*>(nullptr), DoubleDoubleAdd{}, n));
  return sort_bytes > scan_bytes ? sort_bytes : scan_bytes;
}

absl::Status CheckSize(int64_t n) {
  // One block per candidate: the grid's x dimension bounds n.
  if (n < 2 || n - 1 > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("KS scan needs 2 .. 2^31 values, got ", n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> KsScanDeviceBytes(int64_t n) {
  HTSR_RETURN_IF_ERROR(CheckSize(n));
  const std::optional<int64_t> bytes = cuda_plan::KsScanBytes(n);
  if (!bytes) return absl::ResourceExhaustedError(absl::StrCat("KS scan of ", n, " values"));
  HTSR_ASSIGN_OR_RETURN(size_t temp, CubTempBytes(n));
  return *bytes + static_cast<int64_t>(temp);
}

absl::StatusOr<KsScanResult> KsScanDevice(const double* d_values, int64_t n, cudaStream_t stream) {
  HTSR_RETURN_IF_ERROR(CheckSize(n));
  const size_t un = static_cast<size_t>(n);
  HTSR_ASSIGN_OR_RETURN(size_t temp_bytes, CubTempBytes(n));
  HTSR_ASSIGN_OR_RETURN(auto temp, DeviceBuffer<char>::Allocate(temp_bytes, stream));
  HTSR_ASSIGN_OR_RETURN(auto sorted, DeviceBuffer<double>::Allocate(un, stream));
  HTSR_ASSIGN_OR_RETURN(auto logs, DeviceBuffer<double>::Allocate(un, stream));
  HTSR_ASSIGN_OR_RETURN(auto reversed, DeviceBuffer<DoubleDouble>::Allocate(un, stream));
  HTSR_ASSIGN_OR_RETURN(auto suffix, DeviceBuffer<DoubleDouble>::Allocate(un, stream));
  HTSR_ASSIGN_OR_RETURN(auto alphas, DeviceBuffer<double>::Allocate(un - 1, stream));
  HTSR_ASSIGN_OR_RETURN(auto ds, DeviceBuffer<double>::Allocate(un - 1, stream));
  HTSR_ASSIGN_OR_RETURN(auto result, DeviceBuffer<KsScanResult>::Allocate(1, stream));

  // Positive doubles sort correctly as radix keys; already-sorted input stays as it is
  // (equal keys are indistinguishable), so indices match the caller's ascending order.
  HTSR_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(temp.data(), temp_bytes, d_values, sorted.data(),
                                                 n, 0, 64, stream));
  LogKernel<<<GridFor(n, 256), 256, 0, stream>>>(sorted.data(), logs.data(), reversed.data(), n);
  HTSR_CUDA_CHECK_LAUNCH("LogKernel");
  HTSR_CUDA_CHECK(cub::DeviceScan::InclusiveScan(temp.data(), temp_bytes, reversed.data(),
                                                 suffix.data(), DoubleDoubleAdd{}, n, stream));
  const int threads = cuda_plan::KsThreadsPerBlock(n);
  CandidateKernel<<<static_cast<unsigned>(n - 1), threads, 0, stream>>>(
      sorted.data(), logs.data(), suffix.data(), n, alphas.data(), ds.data());
  HTSR_CUDA_CHECK_LAUNCH("CandidateKernel");
  ArgminKernel<<<1, kArgminThreads, 0, stream>>>(alphas.data(), ds.data(), n - 1, result.data());
  HTSR_CUDA_CHECK_LAUNCH("ArgminKernel");

  KsScanResult host;
  HTSR_CUDA_CHECK(
      cudaMemcpyAsync(&host, result.data(), sizeof(host), cudaMemcpyDeviceToHost, stream));
  HTSR_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

}  // namespace htsr::cuda
