#include "remote/layer_split.h"

#include <algorithm>
#include <cstddef>

#include "htsr/engine.h"

namespace htsr {

std::vector<std::vector<int32_t>> SplitLayersForStreams(const std::vector<LayerPlan>& plans,
                                                        const std::vector<uint64_t>& bytes,
                                                        int streams) {
  std::vector<std::vector<size_t>> groups(static_cast<size_t>(std::max(streams, 1)));
  std::vector<uint64_t> load(groups.size(), 0);
  for (size_t k = 0; k < plans.size(); ++k) {
    const size_t g = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    groups[g].push_back(k);
    load[g] += std::max<uint64_t>(k < bytes.size() ? bytes[k] : 0, 1);
  }
  auto small = [&](size_t k) { return !IsLargeLayer(plans[k]); };
  auto small_count = [&](const std::vector<size_t>& group) {
    return std::count_if(group.begin(), group.end(), small);
  };
  std::vector<size_t> all(plans.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  if (small_count(all) >= 2) {
    for (size_t g = 0; g < groups.size(); ++g) {
      if (small_count(groups[g]) != 1) continue;
      // Another group with small layers exists (the total is >= 2); join the one with the
      // fewest, so lone ones pair up instead of piling into one call.
      size_t to = groups.size();
      for (size_t h = 0; h < groups.size(); ++h) {
        const auto n = small_count(groups[h]);
        if (h != g && n >= 1 && (to == groups.size() || n < small_count(groups[to]))) to = h;
      }
      const auto lone = std::find_if(groups[g].begin(), groups[g].end(), small);
      groups[to].push_back(*lone);
      std::sort(groups[to].begin(), groups[to].end());
      groups[g].erase(lone);
    }
  }
  std::vector<std::vector<int32_t>> ids;
  for (const std::vector<size_t>& group : groups) {
    if (group.empty()) continue;
    ids.emplace_back();
    for (size_t k : group) ids.back().push_back(plans[k].layer_id);
  }
  return ids;
}

}  // namespace htsr
