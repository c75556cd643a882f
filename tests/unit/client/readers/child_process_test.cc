// RunInChild (client/readers/child_process.h): output, and every way a child can fail —
// signal, exit status, wall-clock and CPU limits, memory limit, too much output — ends as a
// ChildResult that says so, never in the caller.
#include "readers/child_process.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr::readers {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

ChildResult RunBody(const ChildLimits& limits, const std::function<void(int)>& body) {
  std::string error;
  ChildResult r = RunInChild(limits, {}, body, &error);
  EXPECT_TRUE(error.empty()) << error;
  return r;
}

TEST(ChildProcessTest, OutputComesBack) {
  const std::string big(300000, 'x');  // more than a pipe holds: read while written
  ChildResult r = RunBody({}, [&](int out) {
    WriteAll(out, "hello ", 6);
    WriteAll(out, big.data(), big.size());
  });
  EXPECT_TRUE(r.ok()) << r.Describe({});
  EXPECT_EQ(r.output, "hello " + big);
}

TEST(ChildProcessTest, SignalAndExitStatusAreReported) {
  ChildResult r = RunBody({}, [](int out) {
    WriteAll(out, "partial", 7);
    std::abort();
  });
  EXPECT_EQ(r.end, ChildResult::End::kSignaled);
  EXPECT_EQ(r.code, SIGABRT);
  EXPECT_EQ(r.output, "partial");  // what came before the crash
  EXPECT_NE(r.Describe({}).find("signal 6"), std::string::npos) << r.Describe({});

  r = RunBody({}, [](int) { _exit(7); });
  EXPECT_EQ(r.end, ChildResult::End::kExited);
  EXPECT_EQ(r.code, 7);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Describe({}), "exited with status 7");
}

TEST(ChildProcessTest, WallClockLimitKillsAHangingChild) {
  ChildLimits limits;
  limits.wall_seconds = 0.3;
  ChildResult r = RunBody(limits, [](int) {
    for (;;) pause();
  });
  EXPECT_EQ(r.end, ChildResult::End::kTimedOut);
  EXPECT_EQ(r.Describe(limits), "ran past its time limit of 0.3 s");
  // Also when it closes the pipe first and lingers.
  r = RunBody(limits, [](int out) {
    close(out);
    for (;;) pause();
  });
  EXPECT_EQ(r.end, ChildResult::End::kTimedOut);
}

TEST(ChildProcessTest, CpuLimitStopsABusyChild) {
  ChildLimits limits;
  limits.cpu_seconds = 1;
  limits.wall_seconds = 60;
  ChildResult r = RunBody(limits, [](int) {
    volatile uint64_t x = 0;
    for (;;) x = x + 1;
  });
  EXPECT_EQ(r.end, ChildResult::End::kSignaled);
  EXPECT_TRUE(r.code == SIGXCPU || r.code == SIGKILL) << r.code;
}

TEST(ChildProcessTest, MemoryLimitStopsAGreedyChild) {
  ChildLimits limits;
  limits.extra_address_space = uint64_t{256} << 20;
  ChildResult r = RunBody(limits, [](int) {
    std::vector<char> v(size_t{4} << 30, 1);
    _exit(v[12345] == 1 ? 0 : 1);
  });
  EXPECT_FALSE(r.ok());
  // Under ASan its allocator reports the failure itself and exits nonzero.
  if (!kAsan) {
    EXPECT_EQ(r.end, ChildResult::End::kExited);
    EXPECT_EQ(r.code, kChildOutOfMemory);
    EXPECT_EQ(r.Describe(limits), "ran out of its memory limit (256 MiB)");
  }
}

TEST(ChildProcessTest, TooMuchOutputKillsTheChild) {
  ChildLimits limits;
  limits.max_output_bytes = 1000;
  ChildResult r = RunBody(limits, [](int out) {
    const std::string chunk(4096, 'y');
    for (;;) WriteAll(out, chunk.data(), chunk.size());
  });
  EXPECT_EQ(r.end, ChildResult::End::kOutputTooLarge);
  EXPECT_LE(r.output.size(), 1000u);
}

TEST(ChildProcessTest, KeptDescriptorsStayOpenOthersAreClosed) {
  int keep[2], other[2];
  ASSERT_EQ(pipe(keep), 0);
  ASSERT_EQ(pipe(other), 0);
  std::string error;
  ChildResult r = RunInChild(
      {}, {keep[1]},
      [&](int out) {
        const bool kept = write(keep[1], "k", 1) == 1;
        const bool closed = write(other[1], "o", 1) < 0;
        WriteAll(out, kept && closed ? "yes" : "no", kept && closed ? 3 : 2);
      },
      &error);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "yes");
  for (int fd : {keep[0], keep[1], other[0], other[1]}) close(fd);
}

}  // namespace
}  // namespace htsr::readers
