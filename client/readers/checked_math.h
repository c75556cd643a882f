// Overflow-checked sizes: every count a file declares is multiplied here before anything
// is allocated or indexed, so a hostile shape cannot wrap around to a small number.
#ifndef HTSR_CLIENT_READERS_CHECKED_MATH_H_
#define HTSR_CLIENT_READERS_CHECKED_MATH_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace htsr::readers {

inline std::optional<uint64_t> CheckedMul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<uint64_t> CheckedAdd(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// Product of the dimensions (1 for a scalar); nullopt for a negative dimension or when the
// product does not fit in int64 (TensorInfo stores int64 shapes).
inline std::optional<uint64_t> CheckedNumElements(std::span<const int64_t> shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    auto next = CheckedMul(n, static_cast<uint64_t>(d));
    if (!next || *next > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    n = *next;
  }
  return n;
}

// Elements times element size, also bounded by int64.
inline std::optional<uint64_t> CheckedByteSize(std::span<const int64_t> shape, size_t elem) {
  auto n = CheckedNumElements(shape);
  if (!n) return std::nullopt;
  auto bytes = CheckedMul(*n, elem);
  if (!bytes || *bytes > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return bytes;
}

inline std::string ShapeString(std::span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_CHECKED_MATH_H_
