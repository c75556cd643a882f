// TensorInfo helpers.
#include "htsr/tensor.h"

#include "htsr/base/checked_math.h"

namespace htsr {

std::optional<int64_t> TensorInfo::NumElements() const {
  const std::optional<uint64_t> n = CheckedNumElements(shape);
  if (!n) return std::nullopt;
  return static_cast<int64_t>(*n);  // bounded by int64 there
}

}  // namespace htsr
