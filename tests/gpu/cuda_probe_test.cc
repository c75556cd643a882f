// The CUDA backend's own entry points on any machine: without a driver or device they
// must report 0 devices and return an error, never crash (house rule 3). Not skipped.
#include <memory>

#include "../../kernels/cuda/cuda_backend.h"
#include "gtest/gtest.h"

namespace htsr {
namespace {

TEST(CudaProbeTest, CountMatchesCreation) {
  const int count = CudaDeviceCountImpl();
  ASSERT_GE(count, 0);
  EXPECT_EQ(CudaDeviceCount(), count);
  absl::StatusOr<std::unique_ptr<Backend>> backend = CreateCudaBackend(0);
  if (count == 0) {
    ASSERT_FALSE(backend.ok());
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  } else {
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_EQ((*backend)->Name(), "cuda");
  }
  EXPECT_FALSE(CreateCudaBackend(count).ok());
  EXPECT_FALSE(CreateCudaBackendWithMemoryLimit(0, 0).ok());
}

}  // namespace
}  // namespace htsr
