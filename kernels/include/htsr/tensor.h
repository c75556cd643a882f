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

  // > 0: not a stored matrix but the low-rank product `low_rank_scale * B A` of a LoRA
  // adapter, `shape` = (out, in) its logical shape. The view's bytes are then A
  // (low_rank x in) followed by B (out x low_rank), float32 row-major, and the engine solves an
  // r x r problem instead of forming B A (docs/spec.md §1b).
  int64_t low_rank = 0;
  double low_rank_scale = 1.0;
  // The module's weight is stored (in, out), as GPT-2's Conv1D stores it (PEFT's
  // fan_in_fan_out): the update it receives is then (scale * B A)^T. The spectrum is the same;
  // only merging with a base weight (--base) needs to know.
  bool low_rank_fan_in_fan_out = false;

  // Product of the dimensions; nullopt for a negative dimension or on overflow of int64
  // (htsr/base/checked_math.h).
  std::optional<int64_t> NumElements() const;

  // Bytes of the data as readers hand it out and the wire carries it: product(shape) times
  // the dtype's size, or for a LoRA update its two float32 factors, low_rank * (out + in) * 4.
  // nullopt on overflow, a negative dimension, or an update whose shape is not (out, in).
  std::optional<uint64_t> DataBytes() const;
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
