// Materialises a strided view (PyTorch storage views, Fortran-ordered .npy, big-endian
// arrays) as the row-major little-endian bytes the engine expects (tensor.h).
#ifndef HTSR_CLIENT_READERS_STRIDED_COPY_H_
#define HTSR_CLIENT_READERS_STRIDED_COPY_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/status.h"

namespace htsr::readers {

// Validates that every element of the view (element `offset + sum(i_k * strides[k])` of a
// storage of `storage.size() / elem_size` elements) lies inside `storage`. Strides are in
// elements and must be non-negative. `what` prefixes error messages.
absl::Status CheckStridedBounds(std::span<const int64_t> shape, std::span<const int64_t> strides,
                                int64_t offset, size_t elem_size, size_t storage_bytes,
                                const std::string& what);

// True when the view is already row-major contiguous (dimensions of size 1 may carry any
// stride), i.e. it can be served as one span starting at `offset`.
bool IsRowMajorContiguous(std::span<const int64_t> shape, std::span<const int64_t> strides);

// Copies the view into `dst` (product(shape) * elem_size bytes) in row-major order,
// reversing the byte order of each element when `byteswap`. Call CheckStridedBounds first.
void CopyStrided(std::span<const std::byte> storage, std::span<const int64_t> shape,
                 std::span<const int64_t> strides, int64_t offset, size_t elem_size, bool byteswap,
                 std::byte* dst);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_STRIDED_COPY_H_
