// ParallelFor: every index exactly once, whatever the thread count, and no exception ever
// escapes a worker thread (it would terminate the process).
#include "htsr/base/parallel_for.h"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace htsr {
namespace {

TEST(ParallelForTest, RunsEveryIndexOnce) {
  for (int threads : {0, 1, 2, 4, 64}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(n);
      ParallelFor(n, threads, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << threads << " " << i;
    }
  }
}

TEST(ParallelForTest, UsesAtMostTheThreadsAskedFor) {
  std::mutex mu;
  std::set<std::thread::id> ids;
  ParallelFor(200, 3, [&](size_t) {
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LE(ids.size(), 3u);

  ids.clear();
  ParallelFor(5, 1, [&](size_t) { ids.insert(std::this_thread::get_id()); });
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(ParallelForTest, ThrowingTaskStopsNothingAndReachesTheCallerOnce) {
  std::vector<std::atomic<int>> hits(100);
  EXPECT_THROW(ParallelFor(hits.size(), 4,
                           [&](size_t i) {
                             hits[i].fetch_add(1);
                             if (i % 10 == 3) throw std::runtime_error("task failed");
                           }),
               std::runtime_error);
  for (size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i].load(), 1) << i;
}

TEST(ParallelForTest, QuietTasksPropagateNothing) {
  std::atomic<size_t> sum{0};
  EXPECT_NO_THROW(ParallelFor(10, 4, [&](size_t i) { sum += i; }));
  EXPECT_EQ(sum.load(), 45u);
}

}  // namespace
}  // namespace htsr
