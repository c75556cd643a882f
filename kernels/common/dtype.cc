// Element type names and conversion to float32 (docs/spec.md §1: torch's `.float()` semantics).
#include "htsr/dtype.h"

#include <cstring>

namespace htsr {

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kF64:
      return "F64";
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kI64:
      return "I64";
    case DType::kI32:
      return "I32";
    case DType::kI16:
      return "I16";
    case DType::kI8:
      return "I8";
    case DType::kU8:
      return "U8";
    case DType::kBool:
      return "BOOL";
    case DType::kF8E4M3:
      return "F8_E4M3";
    case DType::kF8E5M2:
      return "F8_E5M2";
  }
  return "?";
}

std::optional<DType> ParseSafetensorsDType(std::string_view name) {
  struct Entry {
    std::string_view name;
    DType type;
  };
  static constexpr Entry kTable[] = {
      {"F64", DType::kF64},   {"F32", DType::kF32},        {"F16", DType::kF16},
      {"BF16", DType::kBF16}, {"I64", DType::kI64},        {"I32", DType::kI32},
      {"I16", DType::kI16},   {"I8", DType::kI8},          {"U8", DType::kU8},
      {"BOOL", DType::kBool}, {"F8_E4M3", DType::kF8E4M3}, {"F8_E5M2", DType::kF8E5M2},
  };
  for (const Entry& e : kTable) {
    if (e.name == name) return e.type;
  }
  return std::nullopt;
}

namespace {

// Loads are done through memcpy: the source may be unaligned (mmap'd file offsets) and we
// assume a little-endian host, as every platform we build for is.
template <typename T>
T LoadUnaligned(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

bool ConvertToFloat32(DType t, const std::byte* src, size_t count, float* dst) {
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, count * sizeof(float));
      return true;
    case DType::kF64:
      // static_cast rounds to nearest (the default FP environment), like torch's .float().
      for (size_t i = 0; i < count; ++i) {
        dst[i] = static_cast<float>(LoadUnaligned<double>(src + 8 * i));
      }
      return true;
    case DType::kF16:
      for (size_t i = 0; i < count; ++i) dst[i] = HalfToFloat(LoadUnaligned<uint16_t>(src + 2 * i));
      return true;
    case DType::kBF16:
      for (size_t i = 0; i < count; ++i) {
        dst[i] = BFloat16ToFloat(LoadUnaligned<uint16_t>(src + 2 * i));
      }
      return true;
    case DType::kF8E4M3:
      for (size_t i = 0; i < count; ++i) dst[i] = Float8E4M3ToFloat(static_cast<uint8_t>(src[i]));
      return true;
    case DType::kF8E5M2:
      for (size_t i = 0; i < count; ++i) dst[i] = Float8E5M2ToFloat(static_cast<uint8_t>(src[i]));
      return true;
    default:
      return false;
  }
}

}  // namespace htsr
