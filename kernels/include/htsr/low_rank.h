// The nonzero spectrum of a low-rank product (a LoRA update) from its factors, without
// forming the product.
#ifndef HTSR_LOW_RANK_H_
#define HTSR_LOW_RANK_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace htsr {

// The r squared singular values of `scale * B A`, ascending, where A is r x in and B is
// out x r (row-major float32). These are the nonzero eigenvalues of (sBA)^T (sBA); the other
// min(out, in) - r are zero. Cost O((out + in) r^2); nothing of size out x in is formed.
absl::StatusOr<std::vector<double>> LowRankSquaredSingularValues(std::span<const float> a,
                                                                 std::span<const float> b,
                                                                 int64_t r, int64_t in, int64_t out,
                                                                 double scale);

}  // namespace htsr

#endif  // HTSR_LOW_RANK_H_
