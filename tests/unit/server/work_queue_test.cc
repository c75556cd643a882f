#include "server/work_queue.h"

#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace htsr::server {
namespace {

WorkItem Item(uint64_t call, int64_t rows, int64_t cols, int id) {
  WorkItem w;
  w.call_id = call;
  w.plan.rows = rows;
  w.plan.cols = cols;
  w.plan.layer_id = id;
  w.bytes = static_cast<uint64_t>(rows * cols * 4);
  return w;
}

// Oldest first across calls and shapes: a layer never waits behind younger ones.
TEST(WorkQueue, PopsOldestFirstWhateverTheShape) {
  WorkQueue q;
  q.Push(Item(1, 64, 32, 1));
  q.Push(Item(2, 16, 16, 2));
  q.Push(Item(3, 64, 32, 3));
  q.Push(Item(1, 64, 32, 4));
  for (int want : {1, 2, 3, 4}) {
    std::optional<WorkItem> item = q.Pop();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->plan.layer_id, want);
  }
  EXPECT_EQ(q.size(), 0u);
}

TEST(WorkQueue, RemoveCallReturnsItsItemsOnly) {
  WorkQueue q;
  q.Push(Item(1, 8, 8, 1));
  q.Push(Item(2, 8, 8, 2));
  q.Push(Item(1, 4, 4, 3));
  std::vector<WorkItem> removed = q.RemoveCall(1);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.Pop()->call_id, 2u);
}

TEST(WorkQueue, ShutdownWakesWaitersWithNothing) {
  WorkQueue q;
  std::thread t([&] { EXPECT_FALSE(q.Pop().has_value()); });
  q.Shutdown();
  t.join();
}

}  // namespace
}  // namespace htsr::server
