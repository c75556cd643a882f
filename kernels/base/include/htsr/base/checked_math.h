// Overflow-checked sizes, the one copy for the whole product: tensor metadata (the engine),
// readers (file-declared shapes, hostile) and the server (client-declared shapes, hostile)
// multiply every count here before anything is allocated or indexed, so a shape cannot
// wrap around to a small number.
#ifndef HTSR_BASE_CHECKED_MATH_H_
#define HTSR_BASE_CHECKED_MATH_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace htsr {

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
// product does not fit in int64 (shapes are int64 everywhere, so is every element count).
inline std::optional<uint64_t> CheckedNumElements(std::span<const int64_t> shape) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    const std::optional<uint64_t> next = CheckedMul(n, static_cast<uint64_t>(d));
    if (!next || *next > kMax) return std::nullopt;
    n = *next;
  }
  return n;
}

// Elements times element size, also bounded by int64.
inline std::optional<uint64_t> CheckedByteSize(std::span<const int64_t> shape, size_t elem) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const std::optional<uint64_t> n = CheckedNumElements(shape);
  if (!n) return std::nullopt;
  const std::optional<uint64_t> bytes = CheckedMul(*n, elem);
  if (!bytes || *bytes > kMax) return std::nullopt;
  return bytes;
}

// "[3, 4, 5]": how every message names a shape.
inline std::string ShapeString(std::span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace htsr

#endif  // HTSR_BASE_CHECKED_MATH_H_
