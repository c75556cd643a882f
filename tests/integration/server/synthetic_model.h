// Synthetic models for server tests: seeded random tensors of every layer kind and dtype,
// served through a TensorSource exactly as a checkpoint reader would serve them.
#ifndef HTSR_TESTS_INTEGRATION_SERVER_SYNTHETIC_MODEL_H_
#define HTSR_TESTS_INTEGRATION_SERVER_SYNTHETIC_MODEL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "htsr/engine.h"

namespace htsr::testing {

struct SyntheticTensor {
  TensorInfo info;
  std::vector<std::byte> bytes;
};

inline uint16_t FloatToHalfBits(float f) {
  // Round-to-nearest-even via the widening of the result being exact is not needed here:
  // any bit pattern is a valid test input; truncation keeps it simple and finite.
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  const uint32_t mant = (x >> 13) & 0x3ffu;
  if (exp <= 0) return static_cast<uint16_t>(sign);
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7bffu);
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(exp) << 10) | mant);
}

// Heavy-ish tails: Student-t-like values so the power-law fit has something to fit.
inline SyntheticTensor MakeTensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                  uint64_t seed) {
  SyntheticTensor t;
  t.info.name = name;
  t.info.dtype = dtype;
  t.info.shape = std::move(shape);
  const int64_t n = t.info.NumElements().value_or(0);
  t.bytes.resize(static_cast<size_t>(n) * DTypeSize(dtype));
  std::mt19937_64 rng(seed);
  std::student_t_distribution<double> dist(3.0);
  for (int64_t i = 0; i < n; ++i) {
    const double v = dist(rng) * 0.05;
    std::byte* dst = t.bytes.data() + static_cast<size_t>(i) * DTypeSize(dtype);
    switch (dtype) {
      case DType::kF64:
        std::memcpy(dst, &v, 8);
        break;
      case DType::kF32: {
        const float f = static_cast<float>(v);
        std::memcpy(dst, &f, 4);
        break;
      }
      case DType::kF16: {
        const uint16_t h = FloatToHalfBits(static_cast<float>(v));
        std::memcpy(dst, &h, 2);
        break;
      }
      case DType::kBF16: {
        const float f = static_cast<float>(v);
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        const uint16_t b = static_cast<uint16_t>(bits >> 16);
        std::memcpy(dst, &b, 2);
        break;
      }
      default: {
        const int64_t k = static_cast<int64_t>(v * 100);
        std::memcpy(dst, &k, std::min<size_t>(8, DTypeSize(dtype)));
      }
    }
  }
  return t;
}

// A model with dense/conv1d/conv2d layers in four dtypes, a bias (not a layer), layers the
// size filter skips, a NaN layer (failed row) and, optionally, one tensor whose load fails.
struct SyntheticModel {
  std::vector<SyntheticTensor> tensors;
  std::set<size_t> failing_loads;

  TensorSource Source() const {
    TensorSource s;
    for (const SyntheticTensor& t : tensors) s.tensors.push_back(t.info);
    s.load = [this](size_t i) -> absl::StatusOr<TensorView> {
      if (failing_loads.count(i)) {
        return absl::DataLossError("synthetic: tensor " + tensors[i].info.name +
                                   " truncated at offset 128");
      }
      TensorView v;
      v.info = tensors[i].info;
      v.bytes = std::span<const std::byte>(tensors[i].bytes);
      return v;
    };
    return s;
  }
};

inline SyntheticModel MakeMixedModel(uint64_t seed, bool with_load_error) {
  SyntheticModel m;
  m.tensors.push_back(MakeTensor("embed.weight", DType::kF32, {300, 48}, seed + 1));
  m.tensors.push_back(MakeTensor("fc1.weight", DType::kF32, {96, 64}, seed + 2));
  m.tensors.push_back(MakeTensor("fc1.bias", DType::kF32, {96}, seed + 3));
  m.tensors.push_back(MakeTensor("fc2.weight", DType::kF16, {64, 80}, seed + 4));
  m.tensors.push_back(MakeTensor("fc3.weight", DType::kBF16, {50, 50}, seed + 5));
  m.tensors.push_back(MakeTensor("fc4.weight", DType::kF64, {40, 70}, seed + 6));
  m.tensors.push_back(MakeTensor("conv.weight", DType::kF32, {24, 16, 3, 3}, seed + 7));
  m.tensors.push_back(MakeTensor("conv1d.weight", DType::kF32, {20, 30, 3}, seed + 8));
  m.tensors.push_back(MakeTensor("tiny.weight", DType::kF32, {4, 3}, seed + 9));     // skipped
  m.tensors.push_back(MakeTensor("counts.weight", DType::kI64, {8, 8}, seed + 10));  // not float
  SyntheticTensor nan = MakeTensor("nan.weight", DType::kF32, {32, 16}, seed + 11);
  const float q = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan.bytes.data() + 40, &q, 4);
  m.tensors.push_back(std::move(nan));
  m.tensors.push_back(MakeTensor("head.weight", DType::kF32, {10, 128}, seed + 12));
  if (with_load_error) {
    m.tensors.push_back(MakeTensor("broken.weight", DType::kF32, {32, 32}, seed + 13));
    m.failing_loads.insert(m.tensors.size() - 1);
  }
  return m;
}

}  // namespace htsr::testing

#endif  // HTSR_TESTS_INTEGRATION_SERVER_SYNTHETIC_MODEL_H_
