// The backend registry's device choice: --device strings (auto, cpu, cuda, cuda:N) and the
// CUDA lane count, both carried by EngineConfig instead of the environment.
#include <string>

#include "gtest/gtest.h"
#include "htsr/backend.h"
#include "htsr/engine.h"

namespace htsr {
namespace {

TEST(ParseDeviceTest, NamesAndOrdinals) {
  EXPECT_EQ(*ParseDevice("auto"), Device::kAuto);
  EXPECT_EQ(*ParseDevice("cpu"), Device::kCpu);
  EXPECT_EQ(*ParseDevice("cuda"), Device::kCuda);
  EXPECT_EQ(*ParseDevice("cuda:0"), Device::kCuda);
  const Device one = *ParseDevice("cuda:1");
  EXPECT_EQ(one.kind, DeviceKind::kCuda);
  EXPECT_EQ(one.ordinal, 1);
  EXPECT_EQ(ParseDevice("cuda:12")->ordinal, 12);
}

TEST(ParseDeviceTest, RejectsWhatIsNotADevice) {
  for (const char* bad : {"cuda:x", "cuda:", "cuda:-1", "cuda:+1", "cuda:1x", "cuda: 1",
                          "cuda:99999999999", "cuda:1024", "gpu", "CUDA", "", "cpu:0"}) {
    absl::StatusOr<Device> d = ParseDevice(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseDeviceTest, NameRoundTrips) {
  for (const char* text : {"auto", "cpu", "cuda", "cuda:1", "cuda:7"}) {
    EXPECT_EQ(DeviceName(*ParseDevice(text)), text);
  }
  EXPECT_EQ(DeviceName(Device{DeviceKind::kCuda, 0}), "cuda");
}

TEST(CreateBackendTest, LaneCountIsChecked) {
  std::string note;
  EXPECT_EQ(CreateBackend(Device::kCpu, 1, &note, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateBackend(Device::kCpu, 1, &note, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::unique_ptr<Backend>> cpu = CreateBackend(Device::kCpu, 1, &note, 4);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*cpu)->Name(), "cpu");
}

TEST(CreateBackendTest, MissingCudaOrdinalIsAnError) {
  if (CudaDeviceCount() > 64) GTEST_SKIP() << "more GPUs than this test assumes";
  std::string note;
  absl::StatusOr<std::unique_ptr<Backend>> b =
      CreateBackend(Device{DeviceKind::kCuda, 64}, 1, &note);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition) << b.status();
}

TEST(EngineConfigTest, CarriesDeviceAndLanes) {
  EngineConfig config;
  config.device = *ParseDevice("cpu");
  config.cuda_lanes = 3;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->backend().Name(), "cpu");
  EXPECT_EQ((*engine)->config().cuda_lanes, 3);
}

}  // namespace
}  // namespace htsr
