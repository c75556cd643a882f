#include "readers/strided_copy.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"

namespace htsr::readers {

absl::Status CheckStridedBounds(std::span<const int64_t> shape, std::span<const int64_t> strides,
                                int64_t offset, size_t elem_size, size_t storage_bytes,
                                const std::string& what) {
  if (shape.size() != strides.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": shape has ", shape.size(),
                                                   " dimensions but stride has ", strides.size()));
  }
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": negative storage offset ", offset));
  }
  if (!CheckedByteSize(shape, elem_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": shape ", ShapeString(shape), " is negative or overflows"));
  }
  const uint64_t storage_elems = storage_bytes / elem_size;
  bool empty = false;
  for (int64_t d : shape) empty |= d == 0;
  if (empty) return absl::OkStatus();  // no element is ever read
  // The largest index touched is offset + sum((size-1) * stride) since strides are >= 0.
  uint64_t last = static_cast<uint64_t>(offset);
  for (size_t k = 0; k < shape.size(); ++k) {
    if (strides[k] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": negative stride ", strides[k], " in dimension ", k));
    }
    auto term = CheckedMul(static_cast<uint64_t>(shape[k] - 1), static_cast<uint64_t>(strides[k]));
    auto sum = term ? CheckedAdd(last, *term) : std::nullopt;
    if (!sum) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": strides overflow"));
    }
    last = *sum;
  }
  if (last >= storage_elems) {
    return absl::OutOfRangeError(absl::StrCat(
        what, ": view reaches element ", last, " (byte ", last * elem_size,
        ") but its storage holds ", storage_elems, " elements (", storage_bytes, " bytes)"));
  }
  return absl::OkStatus();
}

bool IsRowMajorContiguous(std::span<const int64_t> shape, std::span<const int64_t> strides) {
  int64_t expected = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] == 0) return true;
    if (shape[k] != 1 && strides[k] != expected) return false;
    expected *= shape[k];  // bounded: the caller checked the product fits
  }
  return true;
}

void CopyStrided(std::span<const std::byte> storage, std::span<const int64_t> shape,
                 std::span<const int64_t> strides, int64_t offset, size_t elem_size, bool byteswap,
                 std::byte* dst) {
  const size_t rank = shape.size();
  for (int64_t d : shape) {
    if (d == 0) return;
  }
  std::vector<int64_t> index(rank, 0);
  size_t src = static_cast<size_t>(offset);
  const std::byte* base = storage.data();
  while (true) {
    const std::byte* from = base + src * elem_size;
    if (byteswap) {
      for (size_t b = 0; b < elem_size; ++b) dst[b] = from[elem_size - 1 - b];
    } else {
      std::memcpy(dst, from, elem_size);
    }
    dst += elem_size;
    // Odometer increment, innermost dimension fastest (row-major output order).
    size_t k = rank;
    while (k > 0) {
      --k;
      if (++index[k] < shape[k]) {
        src += static_cast<size_t>(strides[k]);
        break;
      }
      src -= static_cast<size_t>(strides[k]) * static_cast<size_t>(shape[k] - 1);
      index[k] = 0;
      if (k == 0) return;
    }
    if (rank == 0) return;
  }
}

}  // namespace htsr::readers
