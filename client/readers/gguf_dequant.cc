// Block layouts and formulas: gguf-py 0.19 gguf/quants.py (the *_blocks dequantizers), which
// follow ggml's dequantize_row_* in ggml-quants.c.
//
// Bit for bit with gguf-py: numpy evaluates every product and every sum in float32 with one
// rounding each, in the order written there ((d * sc) first, then * q, then - m). This file
// is compiled with -ffp-contract=off (client/CMakeLists.txt), so the compiler never fuses
// `a * b + c` into one FMA — on aarch64, or x86 with -mfma, GCC would by default.
//
// Can ggml's C code (dequantize_row_q4_1/_q5_1/_q2_K/_q4_K/_q5_K: `d * q + m`, `dl * q - ml`),
// built with FMA contraction, differ in the last bit? No: every product here is exact in
// float32. d and dmin are f16 (11 significant bits), six-bit scales and mins add at most 6,
// int8 scales 7, the quants at most 5 (Q6_K's |q - 32| <= 32), so a product has at most
// 11 + 7 + 5 = 23 < 24 significant bits and stays far from f32's subnormal and overflow
// range. With a * b exact, fma(a, b, c) and a * b + c round the same exact sum once. Checked:
// this file built with -march=haswell -ffp-contract=fast (42 vfmadd) gives the same bits on
// 26M finite non-zero values of random blocks of every type. The flag stays as a guard.
#include "readers/gguf_dequant.h"

#include <array>

namespace htsr::readers::gguf {
namespace {

constexpr uint32_t kQK = 256;  // values per K-quant super-block

// name, block size, bytes per block, how it is read: gguf-py's GGML_QUANT_SIZES.
constexpr std::array<GgmlTypeInfo, 34> kTypes = {{
    {GgmlType::kF32, "F32", 1, 4, GgmlRead::kView, DType::kF32},
    {GgmlType::kF16, "F16", 1, 2, GgmlRead::kView, DType::kF16},
    {GgmlType::kQ4_0, "Q4_0", 32, 18, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ4_1, "Q4_1", 32, 20, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ5_0, "Q5_0", 32, 22, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ5_1, "Q5_1", 32, 24, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ8_0, "Q8_0", 32, 34, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ8_1, "Q8_1", 32, 40, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kQ2_K, "Q2_K", kQK, 84, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ3_K, "Q3_K", kQK, 110, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ4_K, "Q4_K", kQK, 144, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ5_K, "Q5_K", kQK, 176, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ6_K, "Q6_K", kQK, 210, GgmlRead::kDequant, DType::kF32},
    {GgmlType::kQ8_K, "Q8_K", kQK, 292, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ2_XXS, "IQ2_XXS", kQK, 66, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ2_XS, "IQ2_XS", kQK, 74, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ3_XXS, "IQ3_XXS", kQK, 98, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ1_S, "IQ1_S", kQK, 50, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ4_NL, "IQ4_NL", 32, 18, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ3_S, "IQ3_S", kQK, 110, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ2_S, "IQ2_S", kQK, 82, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kIQ4_XS, "IQ4_XS", kQK, 136, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kI8, "I8", 1, 1, GgmlRead::kLeftOut, DType::kI8},
    {GgmlType::kI16, "I16", 1, 2, GgmlRead::kLeftOut, DType::kI16},
    {GgmlType::kI32, "I32", 1, 4, GgmlRead::kLeftOut, DType::kI32},
    {GgmlType::kI64, "I64", 1, 8, GgmlRead::kLeftOut, DType::kI64},
    {GgmlType::kF64, "F64", 1, 8, GgmlRead::kView, DType::kF64},
    {GgmlType::kIQ1_M, "IQ1_M", kQK, 56, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kBF16, "BF16", 1, 2, GgmlRead::kView, DType::kBF16},
    {GgmlType::kTQ1_0, "TQ1_0", kQK, 54, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kTQ2_0, "TQ2_0", kQK, 66, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kMXFP4, "MXFP4", 32, 17, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kNVFP4, "NVFP4", 64, 36, GgmlRead::kLeftOut, DType::kF32},
    {GgmlType::kQ1_0, "Q1_0", 128, 18, GgmlRead::kLeftOut, DType::kF32},
}};

inline float F16At(const uint8_t* p) {
  return HalfToFloat(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// Q4_0: d (f16), 16 bytes of nibbles: values 0..15 low nibbles, 16..31 high. d * (q - 8).
void DequantQ4_0(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 18, y += 32) {
    const float d = F16At(b);
    const uint8_t* qs = b + 2;
    for (int l = 0; l < 16; ++l) {
      y[l] = d * static_cast<float>(static_cast<int>(qs[l] & 0x0F) - 8);
      y[l + 16] = d * static_cast<float>(static_cast<int>(qs[l] >> 4) - 8);
    }
  }
}

// Q4_1: d, m (f16), nibbles as Q4_0. (d * q) + m.
void DequantQ4_1(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 20, y += 32) {
    const float d = F16At(b);
    const float m = F16At(b + 2);
    const uint8_t* qs = b + 4;
    for (int l = 0; l < 16; ++l) {
      y[l] = d * static_cast<float>(qs[l] & 0x0F) + m;
      y[l + 16] = d * static_cast<float>(qs[l] >> 4) + m;
    }
  }
}

inline uint32_t U32At(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Q5_0: d, qh (u32: bit j is bit 4 of value j), nibbles as Q4_0. d * (q - 16).
void DequantQ5_0(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 22, y += 32) {
    const float d = F16At(b);
    const uint32_t qh = U32At(b + 2);
    const uint8_t* qs = b + 6;
    for (int l = 0; l < 16; ++l) {
      const int lo = (qs[l] & 0x0F) | static_cast<int>(((qh >> l) & 1u) << 4);
      const int hi = (qs[l] >> 4) | static_cast<int>(((qh >> (l + 16)) & 1u) << 4);
      y[l] = d * static_cast<float>(lo - 16);
      y[l + 16] = d * static_cast<float>(hi - 16);
    }
  }
}

// Q5_1: d, m, qh, nibbles. (d * q) + m.
void DequantQ5_1(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 24, y += 32) {
    const float d = F16At(b);
    const float m = F16At(b + 2);
    const uint32_t qh = U32At(b + 4);
    const uint8_t* qs = b + 8;
    for (int l = 0; l < 16; ++l) {
      const int lo = (qs[l] & 0x0F) | static_cast<int>(((qh >> l) & 1u) << 4);
      const int hi = (qs[l] >> 4) | static_cast<int>(((qh >> (l + 16)) & 1u) << 4);
      y[l] = d * static_cast<float>(lo) + m;
      y[l + 16] = d * static_cast<float>(hi) + m;
    }
  }
}

// Q8_0: d, 32 int8. q * d.
void DequantQ8_0(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 34, y += 32) {
    const float d = F16At(b);
    for (int l = 0; l < 32; ++l) y[l] = static_cast<float>(static_cast<int8_t>(b[2 + l])) * d;
  }
}

// Q2_K: scales[16] (low nibble scale, high nibble min, per 16 values), qs[64] (2 bits: value
// h*128 + s*32 + l is bits 2s..2s+1 of qs[h*32 + l]), d, dmin. (d*sc) * q - (dmin*m).
void DequantQ2_K(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 84, y += kQK) {
    const uint8_t* scales = b;
    const uint8_t* qs = b + 16;
    const float d = F16At(b + 80);
    const float dmin = F16At(b + 82);
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 4; ++s) {
        for (int half = 0; half < 2; ++half) {
          const int j0 = h * 128 + s * 32 + half * 16;
          const uint8_t sc = scales[j0 / 16];
          const float dl = d * static_cast<float>(sc & 0x0F);
          const float ml = dmin * static_cast<float>(sc >> 4);
          const uint8_t* q = qs + h * 32 + half * 16;
          for (int l = 0; l < 16; ++l) {
            y[j0 + l] = dl * static_cast<float>((q[l] >> (2 * s)) & 3) - ml;
          }
        }
      }
    }
  }
}

// Q3_K: hmask[32] (value j: bit j/32 of hmask[j%32]; a clear bit subtracts 4), qs[64] (low 2
// bits as Q2_K), scales[12] (16 six-bit scales, minus 32), d. (d*sc) * q.
void DequantQ3_K(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 110, y += kQK) {
    const uint8_t* hmask = b;
    const uint8_t* qs = b + 32;
    const uint8_t* sc = b + 96;
    const float d = F16At(b + 108);
    float dl[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = (sc[j % 8] >> (4 * (j / 8))) & 0x0F;
      const int hi = (sc[8 + j % 4] >> (2 * (j / 4))) & 0x03;
      dl[j] = d * static_cast<float>((lo | (hi << 4)) - 32);
    }
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 4; ++s) {
        const int j0 = h * 128 + s * 32;
        const int bit = j0 / 32;
        const uint8_t* q = qs + h * 32;
        for (int l = 0; l < 32; ++l) {
          const int low = (q[l] >> (2 * s)) & 3;
          const int sub = ((hmask[l] >> bit) & 1) ? 0 : 4;
          y[j0 + l] = dl[(j0 + l) / 16] * static_cast<float>(low - sub);
        }
      }
    }
  }
}

// The 8 six-bit scales and mins of Q4_K / Q5_K (gguf-py Q4_K.get_scale_min).
inline void ScaleMinK4(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 0x3F;
    mn[j] = s[j + 4] & 0x3F;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0x0F) | ((s[j] >> 2) & 0x30));
    mn[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 2) & 0x30));
  }
}

// Q4_K: d, dmin, scales[12], qs[128] (sub-block s of 32: nibble s%2 of qs[(s/2)*32 + l]).
// (d*sc) * q - (dmin*m).
void DequantQ4_K(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 144, y += kQK) {
    const float d = F16At(b);
    const float dmin = F16At(b + 2);
    uint8_t sc[8], mn[8];
    ScaleMinK4(b + 4, sc, mn);
    const uint8_t* qs = b + 16;
    for (int c = 0; c < 4; ++c) {
      const float d0 = d * static_cast<float>(sc[2 * c]);
      const float m0 = dmin * static_cast<float>(mn[2 * c]);
      const float d1 = d * static_cast<float>(sc[2 * c + 1]);
      const float m1 = dmin * static_cast<float>(mn[2 * c + 1]);
      const uint8_t* q = qs + c * 32;
      float* out = y + c * 64;
      for (int l = 0; l < 32; ++l) out[l] = d0 * static_cast<float>(q[l] & 0x0F) - m0;
      for (int l = 0; l < 32; ++l) out[32 + l] = d1 * static_cast<float>(q[l] >> 4) - m1;
    }
  }
}

// Q5_K: d, dmin, scales[12], qh[32] (bit s of qh[l] is bit 4 of sub-block s's value l),
// qs[128] as Q4_K. (d*sc) * q - (dmin*m).
void DequantQ5_K(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 176, y += kQK) {
    const float d = F16At(b);
    const float dmin = F16At(b + 2);
    uint8_t sc[8], mn[8];
    ScaleMinK4(b + 4, sc, mn);
    const uint8_t* qh = b + 16;
    const uint8_t* qs = b + 48;
    for (int c = 0; c < 4; ++c) {
      const float d0 = d * static_cast<float>(sc[2 * c]);
      const float m0 = dmin * static_cast<float>(mn[2 * c]);
      const float d1 = d * static_cast<float>(sc[2 * c + 1]);
      const float m1 = dmin * static_cast<float>(mn[2 * c + 1]);
      const uint8_t* q = qs + c * 32;
      float* out = y + c * 64;
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] & 0x0F) | (((qh[l] >> (2 * c)) & 1) << 4);
        out[l] = d0 * static_cast<float>(v) - m0;
      }
      for (int l = 0; l < 32; ++l) {
        const int v = (q[l] >> 4) | (((qh[l] >> (2 * c + 1)) & 1) << 4);
        out[32 + l] = d1 * static_cast<float>(v) - m1;
      }
    }
  }
}

// Q6_K: ql[128] (value h*128 + k*64 + i: nibble k of ql[h*64 + i]), qh[64] (value h*128 +
// s*32 + l: bits 2s..2s+1 of qh[h*32 + l]), scales int8[16], d. (d*sc) * (q - 32).
void DequantQ6_K(const uint8_t* b, size_t nb, float* y) {
  for (size_t i = 0; i < nb; ++i, b += 210, y += kQK) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = F16At(b + 208);
    float dl[16];
    for (int j = 0; j < 16; ++j) dl[j] = d * static_cast<float>(sc[j]);
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 4; ++s) {
        const int j0 = h * 128 + s * 32;
        const uint8_t* lo = ql + h * 64 + (s % 2) * 32;
        const int shift = 4 * (s / 2);
        const uint8_t* hi = qh + h * 32;
        for (int l = 0; l < 32; ++l) {
          const int v = ((lo[l] >> shift) & 0x0F) | (((hi[l] >> (2 * s)) & 3) << 4);
          y[j0 + l] = dl[(j0 + l) / 16] * static_cast<float>(v - 32);
        }
      }
    }
  }
}

}  // namespace

const GgmlTypeInfo* FindGgmlType(uint32_t id) {
  for (const GgmlTypeInfo& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

bool Dequantize(GgmlType type, const std::byte* src, size_t n_blocks, float* dst) {
  const auto* b = reinterpret_cast<const uint8_t*>(src);
  switch (type) {
    case GgmlType::kQ4_0:
      DequantQ4_0(b, n_blocks, dst);
      return true;
    case GgmlType::kQ4_1:
      DequantQ4_1(b, n_blocks, dst);
      return true;
    case GgmlType::kQ5_0:
      DequantQ5_0(b, n_blocks, dst);
      return true;
    case GgmlType::kQ5_1:
      DequantQ5_1(b, n_blocks, dst);
      return true;
    case GgmlType::kQ8_0:
      DequantQ8_0(b, n_blocks, dst);
      return true;
    case GgmlType::kQ2_K:
      DequantQ2_K(b, n_blocks, dst);
      return true;
    case GgmlType::kQ3_K:
      DequantQ3_K(b, n_blocks, dst);
      return true;
    case GgmlType::kQ4_K:
      DequantQ4_K(b, n_blocks, dst);
      return true;
    case GgmlType::kQ5_K:
      DequantQ5_K(b, n_blocks, dst);
      return true;
    case GgmlType::kQ6_K:
      DequantQ6_K(b, n_blocks, dst);
      return true;
    default:
      return false;
  }
}

}  // namespace htsr::readers::gguf
