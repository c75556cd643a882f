// Element types that checkpoints store, and their conversion to float32.
//
// The reference tool converts every weight with `tensor.float()` before any spectral work:
// bf16/f16 widen exactly, f64 is ROUNDED to f32. We do the same (docs/spec.md §1).
#ifndef HTSR_DTYPE_H_
#define HTSR_DTYPE_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace htsr {

enum class DType : uint8_t {
  kF64,
  kF32,
  kF16,
  kBF16,
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
  kF8E4M3,  // OCP float8 e4m3fn: bias 7, no infinities, S.1111.111 is NaN, max 448
  kF8E5M2,  // OCP float8 e5m2: bias 15, IEEE-style inf/NaN (the top byte of an f16)
};

// Size of one element in bytes.
constexpr size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
    case DType::kI16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
    case DType::kF8E4M3:
    case DType::kF8E5M2:
      return 1;
  }
  return 0;
}

constexpr bool IsFloating(DType t) {
  return t == DType::kF64 || t == DType::kF32 || t == DType::kF16 || t == DType::kBF16 ||
         t == DType::kF8E4M3 || t == DType::kF8E5M2;
}

// Canonical short name as used by safetensors ("F32", "BF16", ...).
std::string_view DTypeName(DType t);
// Parses a safetensors dtype name; nullopt when unknown.
std::optional<DType> ParseSafetensorsDType(std::string_view name);

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Every float8 value is exact in float32, as torch's .float() of a float8 tensor.
inline float Float8E4M3ToFloat(uint8_t b) {
  const uint32_t exp = (b >> 3) & 0xfu;
  const uint32_t mant = b & 0x7u;
  float mag;
  if (exp == 0xf && mant == 0x7) {
    mag = std::numeric_limits<float>::quiet_NaN();
  } else if (exp == 0) {
    mag = std::ldexp(static_cast<float>(mant), -9);  // subnormal: 2^(1-7) * m/8
  } else {
    mag = std::ldexp(static_cast<float>(8 + mant), static_cast<int>(exp) - 10);
  }
  return (b & 0x80u) ? -mag : mag;
}

inline float Float8E5M2ToFloat(uint8_t b) { return HalfToFloat(static_cast<uint16_t>(b << 8)); }

// Converts `count` little-endian elements of type `t` at `src` (any alignment) to float32.
// Returns false for non-floating types. f64 is rounded to nearest f32, as torch's .float().
bool ConvertToFloat32(DType t, const std::byte* src, size_t count, float* dst);

}  // namespace htsr

#endif  // HTSR_DTYPE_H_
