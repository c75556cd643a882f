// The truncated power-law xmin scan (docs/spec.md §3a) on the device: every candidate at once.
#ifndef HTSR_KERNELS_CUDA_TPL_SCAN_CUH_
#define HTSR_KERNELS_CUDA_TPL_SCAN_CUH_

#include <cuda_runtime.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace htsr::cuda {

struct TplScanResult {
  int64_t best_index = -1;  // index into the sorted values; -1: no candidate has a finite D
  double alpha = -1;
  double z = -1;  // Lambda * xmin
  double D = -1;
};

// Device bytes TplScanDevice allocates, plus the n values and the candidate indices the
// caller uploads.
absl::StatusOr<int64_t> TplScanDeviceBytes(int64_t n, int64_t candidates);

// `d_sorted`: n ascending values on the device, all > ks::kFitThreshold; `d_candidates`:
// `candidates` xmin indices as Backend::ScanTruncatedPowerLaw takes them (checked by the
// caller). Returns the first candidate with the smallest D. Synchronises `stream`.
absl::StatusOr<TplScanResult> TplScanDevice(const double* d_sorted, int64_t n,
                                            const int64_t* d_candidates, int64_t candidates,
                                            cudaStream_t stream);

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_TPL_SCAN_CUH_
