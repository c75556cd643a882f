// TPL scan kernels. Pipeline: logs -> one block per candidate summing its tail's sufficient
// statistics (T_ln, T_x) -> one thread per candidate running the maximum-likelihood fit ->
// one block per candidate computing D as a max-reduction over its tail -> one block
// choosing the first argmin. The per-candidate math is htsr/tpl_profile.h's and
// htsr/tpl_ks.h's, the code the host scan runs, here instantiated with double.
//
// Differences from the host scan (docs/spec.md §3a gives the tolerance):
//  * double instead of long double in the fit, and no warm start from the neighbouring
//    candidate (candidates are independent here), so alpha and Lambda agree to ~1e-7
//    relative rather than bit for bit;
//  * the statistics are sums of ln(x / xmin) and x - xmin (no cancellation), not
//    differences of suffix sums;
//  * a candidate stops its KS loop once its running maximum exceeds the smallest D that a
//    finished candidate has published (it then cannot be the minimum), as the host loop
//    stops at the best D so far.
#include "tpl_scan.cuh"

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cuda_check.cuh"
#include "device_buffer.cuh"
#include "htsr/tpl_ks.h"
#include "htsr/tpl_profile.h"
#include "launch_plan.h"

namespace htsr::cuda {
namespace {

struct Sum {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct Max {
  __device__ double operator()(double a, double b) const { return b > a ? b : a; }
};

// Reduces `v` over the block (blockDim.x a multiple of 32, at most 1024); the result is
// valid in thread 0. Every thread of the block must call it.
template <typename Op>
__device__ double BlockReduce(double v, Op op, double identity) {
  __shared__ double partial[32];
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
  }
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  __syncthreads();  // a previous call's readers are done with `partial`
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x >> 5) ? partial[lane] : identity;
    for (int offset = 16; offset > 0; offset >>= 1) {
      v = op(v, __shfl_down_sync(0xffffffffu, v, offset));
    }
  }
  return v;
}

__global__ void LogKernel(const double* __restrict__ x, double* __restrict__ logs, int64_t n) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    logs[j] = log(x[j]);
  }
}

// Block c: T_ln = sum_{j >= i} (ln x_j - ln x_i), T_x = sum_{j >= i} (x_j - x_i), i = cand[c].
__global__ void StatsKernel(const double* __restrict__ x, const double* __restrict__ logs,
                            int64_t n, const int64_t* __restrict__ cand, double* __restrict__ t_ln,
                            double* __restrict__ t_x) {
  const int64_t c = blockIdx.x;
  const int64_t i = cand[c];
  const double xi = x[i], li = logs[i];
  double sl = 0.0, sx = 0.0;
  for (int64_t j = i + threadIdx.x; j < n; j += blockDim.x) {
    sl += logs[j] - li;
    sx += x[j] - xi;
  }
  sl = BlockReduce(sl, Sum{}, 0.0);
  sx = BlockReduce(sx, Sum{}, 0.0);
  if (threadIdx.x == 0) {
    t_ln[c] = sl;
    t_x[c] = sx;
  }
}

// Thread c: the maximum-likelihood fit of candidate c (tpl::FitProfile, no warm start).
// Neighbouring candidates have similar tails, so a warp's threads take similar paths.
__global__ void FitKernel(const double* __restrict__ x, const double* __restrict__ logs, int64_t n,
                          const int64_t* __restrict__ cand, int64_t candidates,
                          const double* __restrict__ t_ln, const double* __restrict__ t_x,
                          double* __restrict__ alpha, double* __restrict__ z) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < candidates;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = cand[c];
    tpl::TailStats<double> s;
    s.xmin = x[i];
    s.log_xmin = logs[i];
    s.k = static_cast<double>(n - i);
    s.t_ln = t_ln[c];
    s.t_x = t_x[c];
    const tpl::ProfileFit<double> f = tpl::FitProfile<double>(s, 0.0, 0.0);
    alpha[c] = f.alpha;
    z[c] = f.z;
  }
}

// Non-negative doubles order as their bit patterns: the smallest published D is an
// atomicMin over those.
__device__ __forceinline__ double ReadBound(const unsigned long long* bound) {
  return __longlong_as_double(
      static_cast<long long>(*reinterpret_cast<const volatile unsigned long long*>(bound)));
}
__device__ __forceinline__ void PublishBound(unsigned long long* bound, double d) {
  atomicMin(bound, static_cast<unsigned long long>(__double_as_longlong(d)));
}

__global__ void InitBoundKernel(unsigned long long* bound) {
  *bound = static_cast<unsigned long long>(__double_as_longlong(INFINITY));
}

// Block c: D of candidate c, the maximum of tpl::KsTerm over the first index of every value
// of its tail. NaN when a term is NaN (the host scan skips such a candidate too). A thread
// whose running maximum exceeds `bound` (the smallest D a finished candidate published)
// stops: this candidate's D is larger than that, so it is not the minimum, and it is stored
// as +inf. A candidate that ran to the end publishes its D.
__global__ void KsKernel(const double* __restrict__ x, const double* __restrict__ logs, int64_t n,
                         const int64_t* __restrict__ cand, const double* __restrict__ alpha,
                         const double* __restrict__ z, double* __restrict__ ds,
                         unsigned long long* bound) {
  const int64_t c = blockIdx.x;
  const int64_t i = cand[c];
  const tpl::KsCandidate k = tpl::MakeKsCandidate(alpha[c], z[c] / x[i], x[i], logs[i], i, n);
  if (k.saturated) {  // uniform over the block: no thread reaches a barrier below
    if (threadIdx.x == 0) {
      ds[c] = 1.0;
      PublishBound(bound, 1.0);
    }
    return;
  }
  double best = 0.0;
  int nan = 0, stopped = 0;
  for (int64_t j = i + threadIdx.x; j < n; j += blockDim.x) {
    if (j > i && x[j - 1] == x[j]) continue;  // not the first index of its value
    const double t = tpl::KsTerm(k, x[j], logs[j], j);
    if (isnan(t)) {
      nan = 1;
      break;
    }
    if (t > best) best = t;
    if (best > ReadBound(bound)) {
      stopped = 1;
      break;
    }
  }
  nan = __syncthreads_or(nan);
  stopped = __syncthreads_or(stopped);
  best = BlockReduce(best, Max{}, 0.0);
  if (threadIdx.x == 0) {
    if (nan) {
      ds[c] = NAN;
    } else if (stopped) {
      ds[c] = INFINITY;
    } else {
      ds[c] = best;
      PublishBound(bound, best);
    }
  }
}

constexpr int kArgminThreads = 1024;

// First candidate with the smallest finite D (a NaN or infinite D never wins, as in the host
// scan's `d < best_d` from +inf).
__global__ void ArgminKernel(const int64_t* __restrict__ cand, const double* __restrict__ alpha,
                             const double* __restrict__ z, const double* __restrict__ ds,
                             int64_t candidates, TplScanResult* __restrict__ result) {
  __shared__ double best_d[kArgminThreads];
  __shared__ int64_t best_c[kArgminThreads];
  double d_min = INFINITY;
  int64_t c_min = -1;
  // Each thread visits increasing indices, so a strict `<` keeps its first minimum.
  for (int64_t c = threadIdx.x; c < candidates; c += blockDim.x) {
    const double d = ds[c];
    if (d < d_min) {  // false for NaN and +inf
      d_min = d;
      c_min = c;
    }
  }
  best_d[threadIdx.x] = d_min;
  best_c[threadIdx.x] = c_min;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) {
      const double d = best_d[threadIdx.x + stride];
      const int64_t other = best_c[threadIdx.x + stride];
      const int64_t mine = best_c[threadIdx.x];
      if (other >= 0 &&
          (mine < 0 || d < best_d[threadIdx.x] || (d == best_d[threadIdx.x] && other < mine))) {
        best_d[threadIdx.x] = d;
        best_c[threadIdx.x] = other;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const int64_t c = best_c[0];
    TplScanResult r;
    if (c >= 0) {
      r.best_index = cand[c];
      r.alpha = alpha[c];
      r.z = z[c];
      r.D = ds[c];
    }
    *result = r;
  }
}

unsigned GridFor(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 ? 65535 : blocks));
}

absl::Status CheckSize(int64_t n, int64_t candidates) {
  // One block per candidate: the grid's x dimension bounds the candidates.
  if (n < 2 || candidates < 1 || candidates >= n || candidates > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TPL scan needs 1 .. min(n - 1, 2^31 - 1) candidates of n >= 2 values, got ",
                     candidates, " of ", n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> TplScanDeviceBytes(int64_t n, int64_t candidates) {
  HTSR_RETURN_IF_ERROR(CheckSize(n, candidates));
  const std::optional<int64_t> bytes = cuda_plan::TplScanBytes(n, candidates);
  if (!bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("TPL scan of ", n, " values, ", candidates, " candidates"));
  }
  return *bytes;
}

absl::StatusOr<TplScanResult> TplScanDevice(const double* d_sorted, int64_t n,
                                            const int64_t* d_candidates, int64_t candidates,
                                            cudaStream_t stream) {
  HTSR_RETURN_IF_ERROR(CheckSize(n, candidates));
  const size_t un = static_cast<size_t>(n);
  const size_t uc = static_cast<size_t>(candidates);
  HTSR_ASSIGN_OR_RETURN(auto logs, DeviceBuffer<double>::Allocate(un, stream));
  HTSR_ASSIGN_OR_RETURN(auto t_ln, DeviceBuffer<double>::Allocate(uc, stream));
  HTSR_ASSIGN_OR_RETURN(auto t_x, DeviceBuffer<double>::Allocate(uc, stream));
  HTSR_ASSIGN_OR_RETURN(auto alpha, DeviceBuffer<double>::Allocate(uc, stream));
  HTSR_ASSIGN_OR_RETURN(auto z, DeviceBuffer<double>::Allocate(uc, stream));
  HTSR_ASSIGN_OR_RETURN(auto ds, DeviceBuffer<double>::Allocate(uc, stream));
  HTSR_ASSIGN_OR_RETURN(auto bound, DeviceBuffer<unsigned long long>::Allocate(1, stream));
  HTSR_ASSIGN_OR_RETURN(auto result, DeviceBuffer<TplScanResult>::Allocate(1, stream));

  const unsigned grid = static_cast<unsigned>(candidates);
  const int threads = cuda_plan::KsThreadsPerBlock(n);
  LogKernel<<<GridFor(n, 256), 256, 0, stream>>>(d_sorted, logs.data(), n);
  HTSR_CUDA_CHECK_LAUNCH("TPL LogKernel");
  StatsKernel<<<grid, threads, 0, stream>>>(d_sorted, logs.data(), n, d_candidates, t_ln.data(),
                                            t_x.data());
  HTSR_CUDA_CHECK_LAUNCH("TPL StatsKernel");
  // Small blocks: the fit is one long serial computation per thread.
  constexpr int kFitThreads = 64;
  FitKernel<<<GridFor(candidates, kFitThreads), kFitThreads, 0, stream>>>(
      d_sorted, logs.data(), n, d_candidates, candidates, t_ln.data(), t_x.data(), alpha.data(),
      z.data());
  HTSR_CUDA_CHECK_LAUNCH("TPL FitKernel");
  InitBoundKernel<<<1, 1, 0, stream>>>(bound.data());
  HTSR_CUDA_CHECK_LAUNCH("TPL InitBoundKernel");
  KsKernel<<<grid, threads, 0, stream>>>(d_sorted, logs.data(), n, d_candidates, alpha.data(),
                                         z.data(), ds.data(), bound.data());
  HTSR_CUDA_CHECK_LAUNCH("TPL KsKernel");
  ArgminKernel<<<1, kArgminThreads, 0, stream>>>(d_candidates, alpha.data(), z.data(), ds.data(),
                                                 candidates, result.data());
  HTSR_CUDA_CHECK_LAUNCH("TPL ArgminKernel");

  TplScanResult host;
  HTSR_CUDA_CHECK(
      cudaMemcpyAsync(&host, result.data(), sizeof(host), cudaMemcpyDeviceToHost, stream));
  HTSR_CUDA_CHECK(cudaStreamSynchronize(stream));
  return host;
}

}  // namespace htsr::cuda
