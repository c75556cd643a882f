// TensorInfo helpers.
#include "htsr/tensor.h"

#include <limits>

namespace htsr {

std::optional<int64_t> TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

}  // namespace htsr
