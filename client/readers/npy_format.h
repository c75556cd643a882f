// The .npy array format (NEP 1, versions 1-3), shared by the .npy and .npz readers: the
// magic, a Python-literal header dict, then the raw array. Only plain numeric dtypes are
// accepted; object arrays (which np.load would unpickle) are refused.
#ifndef HTSR_CLIENT_READERS_NPY_FORMAT_H_
#define HTSR_CLIENT_READERS_NPY_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/tensor.h"

namespace htsr::readers {

struct NpyHeader {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  bool fortran_order = false;
  bool big_endian = false;
  uint64_t data_offset = 0;  // from the start of the .npy bytes
  uint64_t data_bytes = 0;   // product(shape) * itemsize, overflow-checked
};

// Headers larger than this are refused (numpy itself stops at 10000 by default).
constexpr size_t kMaxNpyHeaderBytes = 65536;

bool LooksLikeNpy(std::span<const std::byte> bytes);

// Parses the header of `bytes` (the .npy content, or at least its first bytes). `where`
// names the file or member in errors. Does not require the data to be present.
absl::StatusOr<NpyHeader> ParseNpyHeader(std::span<const std::byte> bytes,
                                         const std::string& where);

// Row-major little-endian tensor bytes for a parsed header: a span into `bytes` when the
// array is little-endian C order, else a converted copy. Checks that the data is present.
absl::StatusOr<TensorView> NpyTensor(const NpyHeader& header, std::span<const std::byte> bytes,
                                     std::shared_ptr<const void> owner, TensorInfo info,
                                     const std::string& where);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_NPY_FORMAT_H_
