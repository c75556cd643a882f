#include "remote/layer_split.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "htsr/engine.h"

namespace htsr {
namespace {

// A dense layer n x m (analysed), id `id`.
LayerPlan Dense(int id, int64_t n, int64_t m) {
  TensorInfo t{absl::StrCat("l", id, ".weight"), DType::kF32, {n, m}};
  return PlanLayer(t, id, AnalysisOptions{});
}

std::vector<uint64_t> Bytes(const std::vector<LayerPlan>& plans) {
  std::vector<uint64_t> b;
  for (const LayerPlan& p : plans) b.push_back(static_cast<uint64_t>(p.N * p.M * p.rf) * 4);
  return b;
}

// Every id exactly once, each group ascending.
void ExpectPartition(const std::vector<LayerPlan>& plans,
                     const std::vector<std::vector<int32_t>>& groups) {
  std::multiset<int32_t> seen;
  for (const auto& g : groups) {
    EXPECT_FALSE(g.empty());
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
    seen.insert(g.begin(), g.end());
  }
  std::multiset<int32_t> want;
  for (const LayerPlan& p : plans) want.insert(p.layer_id);
  EXPECT_EQ(seen, want);
}

TEST(LayerSplit, LargeLayersBalancedByBytes) {
  // LLaMA-like: 4096x4096 and 11008x4096 blocks (all large).
  std::vector<LayerPlan> plans;
  for (int i = 0; i < 14; ++i) plans.push_back(Dense(i + 1, i % 7 < 4 ? 4096 : 11008, 4096));
  for (const LayerPlan& p : plans) ASSERT_TRUE(IsLargeLayer(p));
  const auto groups = SplitLayersForStreams(plans, Bytes(plans), 4);
  ASSERT_EQ(groups.size(), 4u);
  ExpectPartition(plans, groups);
  std::map<int32_t, uint64_t> bytes_of;
  const auto b = Bytes(plans);
  for (size_t k = 0; k < plans.size(); ++k) bytes_of[plans[k].layer_id] = b[k];
  uint64_t lo = UINT64_MAX, hi = 0;
  for (const auto& g : groups) {
    uint64_t sum = 0;
    for (int32_t id : g) sum += bytes_of[id];
    lo = std::min(lo, sum);
    hi = std::max(hi, sum);
  }
  // Greedy: no group is heavier than the lightest by more than the largest layer.
  EXPECT_LE(hi - lo, uint64_t{11008} * 4096 * 4);
}

TEST(LayerSplit, NoCallIsLeftWithOneSmallLayerWhenTheModelHasMore) {
  std::vector<LayerPlan> plans;
  for (int i = 0; i < 7; ++i) plans.push_back(Dense(i + 1, 64 + i, 32));  // all small
  plans.push_back(Dense(8, 1024, 700));                                   // large
  ASSERT_FALSE(IsLargeLayer(plans[0]));
  ASSERT_TRUE(IsLargeLayer(plans[7]));
  for (int streams : {2, 3, 4, 8, 64}) {
    SCOPED_TRACE(streams);
    const auto groups = SplitLayersForStreams(plans, Bytes(plans), streams);
    ExpectPartition(plans, groups);
    EXPECT_LE(groups.size(), static_cast<size_t>(streams));
    for (const auto& g : groups) {
      const auto small = std::count_if(g.begin(), g.end(), [](int32_t id) { return id != 8; });
      EXPECT_NE(small, 1) << "a call with exactly one small layer";
    }
    // Lone small layers pair up rather than pile into one call.
    if (streams >= 4) {
      EXPECT_GE(groups.size(), 3u);
    }
  }
}

TEST(LayerSplit, OneSmallLayerModelAndEdgeCases) {
  // A model whose only small layer may stand alone (as in embedded mode).
  std::vector<LayerPlan> plans = {Dense(1, 1024, 700), Dense(2, 100, 50), Dense(3, 1024, 700)};
  const auto groups = SplitLayersForStreams(plans, Bytes(plans), 3);
  EXPECT_EQ(groups.size(), 3u);
  ExpectPartition(plans, groups);
  // One stream: one group, in order. No layers: no groups.
  EXPECT_EQ(SplitLayersForStreams(plans, Bytes(plans), 1),
            (std::vector<std::vector<int32_t>>{{1, 2, 3}}));
  EXPECT_TRUE(SplitLayersForStreams({}, {}, 4).empty());
}

}  // namespace
}  // namespace htsr
