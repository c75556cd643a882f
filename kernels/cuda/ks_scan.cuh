// The power-law KS scan (docs/spec.md §3) on the device: every candidate xmin at once.
#ifndef HTSR_KERNELS_CUDA_KS_SCAN_CUH_
#define HTSR_KERNELS_CUDA_KS_SCAN_CUH_

#include <cuda_runtime.h>

#include <cstdint>

#include "absl/status/statusor.h"

namespace htsr::cuda {

struct KsScanResult {
  int64_t best_index = -1;  // index into the ascending order of the values; -1: none
  double alpha = -1;
  double D = -1;
};

// Device bytes KsScanDevice allocates for n values (CUB temporary storage included).
absl::StatusOr<int64_t> KsScanDeviceBytes(int64_t n);

// `d_values`: n >= 2 values on the device, all > ks::kFitThreshold, in any order (they
// are sorted on the device first, so a device-resident spectrum needs no host trip).
// Returns the FIRST index (in ascending order) with the smallest D. Synchronises `stream`.
absl::StatusOr<KsScanResult> KsScanDevice(const double* d_values, int64_t n, cudaStream_t stream);

}  // namespace htsr::cuda

#endif  // HTSR_KERNELS_CUDA_KS_SCAN_CUH_
