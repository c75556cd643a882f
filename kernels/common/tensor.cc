// TensorInfo helpers.
#include "htsr/tensor.h"

#include "htsr/base/checked_math.h"

namespace htsr {

std::optional<int64_t> TensorInfo::NumElements() const {
  const std::optional<uint64_t> n = CheckedNumElements(shape);
  if (!n) return std::nullopt;
  return static_cast<int64_t>(*n);  // bounded by int64 there
}

std::optional<uint64_t> TensorInfo::DataBytes() const {
  if (low_rank <= 0) return CheckedByteSize(shape, DTypeSize(dtype));
  if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0) return std::nullopt;
  const std::optional<uint64_t> sides =
      CheckedAdd(static_cast<uint64_t>(shape[0]), static_cast<uint64_t>(shape[1]));
  if (!sides) return std::nullopt;
  const std::optional<uint64_t> n = CheckedMul(static_cast<uint64_t>(low_rank), *sides);
  if (!n) return std::nullopt;
  return CheckedMul(*n, sizeof(float));
}

}  // namespace htsr
