// CallWatchdog: registered calls are checked periodically, removed or expired ones are not.
#include "server/call_watchdog.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "gtest/gtest.h"

namespace htsr::server {
namespace {

struct Counter : CallWatchdog::Watched {
  std::atomic<int> checks{0};
  void CheckTimers(absl::Time) override { checks.fetch_add(1); }
};

void WaitFor(const std::atomic<int>& n, int at_least) {
  for (int i = 0; i < 500 && n.load() < at_least; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST(CallWatchdogTest, ChecksRegisteredCallsUntilRemoved) {
  CallWatchdog dog(absl::Milliseconds(5));
  auto a = std::make_shared<Counter>();
  auto b = std::make_shared<Counter>();
  dog.Add(1, a);
  dog.Add(2, b);
  WaitFor(a->checks, 3);
  WaitFor(b->checks, 3);
  EXPECT_GE(a->checks.load(), 3);
  EXPECT_GE(b->checks.load(), 3);
  dog.Remove(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a check may be in flight
  const int after = a->checks.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(a->checks.load(), after);
  EXPECT_EQ(dog.size(), 1u);
}

TEST(CallWatchdogTest, ExpiredCallsAreSkippedAndStopIsPrompt) {
  const auto t0 = std::chrono::steady_clock::now();
  {
    CallWatchdog dog(absl::Seconds(60));  // the destructor must not wait a period
    auto gone = std::make_shared<Counter>();
    dog.Add(1, gone);
    gone.reset();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace htsr::server
