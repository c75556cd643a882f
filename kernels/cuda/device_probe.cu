#include <cuda_runtime.h>

#include "cuda_backend.h"

namespace htsr {

int CudaDeviceCountImpl() {
  int count = 0;
  // cudart is static and loads the driver itself: with no driver this returns
  // cudaErrorInsufficientDriver / cudaErrorNoDevice, never aborts (house rule 3).
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // do not leave the error for the next CUDA call to see
    return 0;
  }
  return count < 0 ? 0 : count;
}

}  // namespace htsr
