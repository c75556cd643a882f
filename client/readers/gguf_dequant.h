// GGML tensor types as GGUF files store them, and their dequantisation to float32.
//
// Each quantised type stores a tensor as consecutive blocks along ne[0] (the fastest-varying
// dimension): a block of `block_size` values takes `type_size` bytes. The arithmetic is that of
// the `gguf` Python package's gguf.quants.dequantize (0.19), operation for operation in float32,
// so the result is the same bit for bit (tests/unit/client/readers/gguf_reader_test.cc).
#ifndef HTSR_CLIENT_READERS_GGUF_DEQUANT_H_
#define HTSR_CLIENT_READERS_GGUF_DEQUANT_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "htsr/dtype.h"

namespace htsr::readers::gguf {

// ggml's enum ggml_type (the ids are the file format; gaps are types ggml removed).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

// How htsr hands a tensor of this type to the engine.
enum class GgmlRead : uint8_t {
  kView,     // plain floats: the file's bytes as they are (`dtype`)
  kDequant,  // blocks: dequantised to float32 on Load
  kLeftOut,  // integer or a block type htsr does not decode: listed in a note, not analysed
};

struct GgmlTypeInfo {
  GgmlType type;
  const char* name;     // ggml's name: "Q4_K", "F16", ...
  uint32_t block_size;  // values per block (1 for plain types)
  uint32_t type_size;   // bytes per block
  GgmlRead read;
  DType dtype;  // kView: the element type; kDequant: kF32
};

// The type with this id, or nullptr for an id no ggml version defines.
const GgmlTypeInfo* FindGgmlType(uint32_t id);

// Dequantises `n_blocks` consecutive blocks of a kDequant type from `src` (n_blocks *
// type_size bytes, any alignment) into `dst` (n_blocks * block_size floats). Returns false
// for a type that is not kDequant.
bool Dequantize(GgmlType type, const std::byte* src, size_t n_blocks, float* dst);

}  // namespace htsr::readers::gguf

#endif  // HTSR_CLIENT_READERS_GGUF_DEQUANT_H_
