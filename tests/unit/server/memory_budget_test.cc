#include "server/memory_budget.h"

#include <vector>

#include <gtest/gtest.h>

namespace htsr::server {
namespace {

TEST(MemoryBudget, ReservesUntilFullThenQueuesFifo) {
  MemoryBudget budget(100);
  EXPECT_TRUE(budget.ReserveOrWait(60, 1, [] {}));
  std::vector<int> granted;
  EXPECT_FALSE(budget.ReserveOrWait(50, 2, [&] { granted.push_back(2); }));
  // FIFO: a small request behind a waiting large one waits too (no starvation).
  EXPECT_FALSE(budget.ReserveOrWait(10, 3, [&] { granted.push_back(3); }));
  EXPECT_EQ(budget.used(), 60u);
  budget.Release(60);
  EXPECT_EQ(granted, (std::vector<int>{2, 3}));
  EXPECT_EQ(budget.used(), 60u);
  EXPECT_EQ(budget.peak(), 60u);
  budget.Release(60);
  EXPECT_EQ(budget.used(), 0u);
}

TEST(MemoryBudget, CancelledWaiterNeverRunsAndUnblocksTheNext) {
  MemoryBudget budget(100);
  ASSERT_TRUE(budget.ReserveOrWait(50, 1, [] {}));
  bool big_ran = false, small_ran = false;
  EXPECT_FALSE(budget.ReserveOrWait(80, 2, [&] { big_ran = true; }));
  EXPECT_FALSE(budget.ReserveOrWait(20, 3, [&] { small_ran = true; }));
  // Withdrawing the head lets the small request (which fits now) through.
  EXPECT_TRUE(budget.CancelWait(2));
  EXPECT_FALSE(big_ran);
  EXPECT_TRUE(small_ran);
  EXPECT_EQ(budget.used(), 70u);
  EXPECT_FALSE(budget.CancelWait(2));  // already gone
  EXPECT_FALSE(budget.CancelWait(3));  // granted: caller owns the bytes
}

}  // namespace
}  // namespace htsr::server
