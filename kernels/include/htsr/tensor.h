// A named tensor as the engine sees it: dtype, shape and a view of its raw bytes.
//
// Memory layout where data enters the engine: row-major (C-contiguous), little-endian,
// exactly product(shape) * DTypeSize(dtype) bytes. Readers that meet strided or offset
// storage (PyTorch views) materialise a contiguous copy and keep it alive via `owner`.
#ifndef HTSR_TENSOR_H_
#define HTSR_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "htsr/dtype.h"

namespace htsr {

// Metadata of one tensor in a checkpoint, known before any weight byte is touched.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;

  // Product of the dimensions; nullopt for a negative dimension or on overflow of int64
  // (htsr/base/checked_math.h).
  std::optional<int64_t> NumElements() const;
};

// Metadata plus the bytes. The bytes may point into a memory-mapped file; `owner` keeps
// whatever backs them (mapping, decompressed buffer, contiguous copy) alive.
struct TensorView {
  TensorInfo info;
  std::span<const std::byte> bytes;
  std::shared_ptr<const void> owner;
};

}  // namespace htsr

#endif  // HTSR_TENSOR_H_
