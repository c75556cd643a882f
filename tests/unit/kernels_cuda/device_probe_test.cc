// GPU probing through the public registry (backend.h): must work, and never crash, on
// machines with no driver or no device (CI), whether or not CUDA was compiled in.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "htsr/backend.h"

namespace htsr {
namespace {

TEST(DeviceProbeTest, CountIsNeverNegativeAndStable) {
  const int count = CudaDeviceCount();
  EXPECT_GE(count, 0);
  EXPECT_EQ(CudaDeviceCount(), count);
}

TEST(DeviceProbeTest, ExplicitCudaWithoutDeviceIsAnErrorNotACrash) {
  std::string note;
  absl::StatusOr<std::unique_ptr<Backend>> backend = CreateBackend(Device::kCuda, 1, &note);
  if (CudaDeviceCount() == 0) {
    ASSERT_FALSE(backend.ok());
    EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  } else {
    ASSERT_TRUE(backend.ok()) << backend.status();
    EXPECT_EQ((*backend)->Name(), "cuda");
  }
}

TEST(DeviceProbeTest, AutoFallsBackToCpuAndSaysSo) {
  std::string note;
  absl::StatusOr<std::unique_ptr<Backend>> backend = CreateBackend(Device::kAuto, 1, &note);
  ASSERT_TRUE(backend.ok()) << backend.status();
  if (CudaDeviceCount() == 0) {
    EXPECT_EQ((*backend)->Name(), "cpu");
    EXPECT_FALSE(note.empty());
  }
}

}  // namespace
}  // namespace htsr
