#include "server/work_queue.h"

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

TEST(WorkQueue, BatchTakesOldestPlusSameShapeFromAnyCall) {
  WorkQueue q;
  q.Push(Item(1, 64, 32, 1));
  q.Push(Item(2, 16, 16, 2));
  q.Push(Item(3, 64, 32, 3));
  q.Push(Item(1, 64, 32, 4));
  std::vector<WorkItem> batch = q.PopBatch(2);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].plan.layer_id, 1);
  EXPECT_EQ(batch[1].plan.layer_id, 3);
  batch = q.PopBatch(8);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].plan.layer_id, 2);  // oldest next, other shape
  batch = q.PopBatch(8);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].plan.layer_id, 4);
}

TEST(WorkQueue, RemoveCallReturnsItsItemsOnly) {
  WorkQueue q;
  q.Push(Item(1, 8, 8, 1));
  q.Push(Item(2, 8, 8, 2));
  q.Push(Item(1, 4, 4, 3));
  std::vector<WorkItem> removed = q.RemoveCall(1);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.PopBatch(8)[0].call_id, 2u);
}

TEST(WorkQueue, ShutdownWakesWaitersWithNothing) {
  WorkQueue q;
  std::thread t([&] { EXPECT_TRUE(q.PopBatch(4).empty()); });
  q.Shutdown();
  t.join();
}

}  // namespace
}  // namespace htsr::server
