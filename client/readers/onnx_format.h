// ONNX models on the wire: the protobuf framing of a ModelProto walked by hand, without the
// protobuf library, so that a hostile file is bounded before anything is decoded.
//
// The walk finds the graph's nodes and initializers and hands out, for each, a small
// re-encoding of only the fields the reader decodes (onnx_reader.cc parses those with the
// generated htsr.onnx messages of proto/onnx/onnx_subset.proto). Tensor data fields are
// never copied here: raw_data is a span of the file, typed fields (float_data, ...) are
// spans of their encodings, decoded one tensor at a time on Load. So the memory a model
// costs at open time is that of its names and shapes, whatever the file holds; a node keeps
// at most its first two inputs and its "transB" attribute, a tensor at most kMaxDims dims.
#ifndef HTSR_CLIENT_READERS_ONNX_FORMAT_H_
#define HTSR_CLIENT_READERS_ONNX_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace htsr::readers::onnx {

// Protobuf's own limit on a message, and ONNX's (onnx.save refuses larger models and
// writes their weights as external data instead).
inline constexpr uint64_t kMaxModelBytes = uint64_t{2} * 1024 * 1024 * 1024 - 1;
inline constexpr size_t kMaxDims = 64;
inline constexpr size_t kMaxExternalEntries = 64;
inline constexpr size_t kMaxDataRuns = 1024;
inline constexpr size_t kMaxNodes = 1 << 22;
inline constexpr size_t kMaxInitializers = 1 << 22;

// TensorProto field numbers of the data fields (onnx.proto).
enum DataField : uint32_t {
  kFloatData = 4,
  kInt32Data = 5,
  kStringData = 6,
  kInt64Data = 7,
  kRawData = 9,
  kDoubleData = 10,
  kUint64Data = 11,
};

// One initializer as found on the wire.
struct WireTensor {
  uint64_t offset = 0;  // of the TensorProto message in the file
  size_t index = 0;     // position among the graph's initializers
  std::string header;   // re-encoded dims, data_type, segment, name, external_data, data_location
  // raw_data: the payload of its last occurrence (protobuf: the last one wins).
  bool has_raw_data = false;
  std::span<const std::byte> raw_data;
  uint64_t raw_data_offset = 0;
  // Typed data fields: field number, their elements, and their encodings (tags included)
  // in file order, adjacent occurrences merged into one run.
  struct Typed {
    uint32_t field = 0;
    uint64_t elements = 0;
    uint64_t offset = 0;  // of the first occurrence
    std::vector<std::span<const std::byte>> runs;
  };
  std::vector<Typed> typed;
};

struct WireNode {
  uint64_t offset = 0;   // of the NodeProto message in the file
  std::string encoding;  // re-encoded first two inputs, name, op_type, domain, "transB"
};

struct WireModel {
  size_t sparse_initializers = 0;
};

struct WireVisitor {
  std::function<absl::Status(WireNode)> node;
  std::function<absl::Status(WireTensor)> initializer;
};

// Walks a whole ModelProto (every graph field, in file order: protobuf merges repeated
// occurrences). Errors name `name` and the byte offset. Refuses files over kMaxModelBytes.
absl::Status WalkOnnxModel(std::span<const std::byte> bytes, const std::string& name,
                           const WireVisitor& visitor, WireModel* model);

// The detection rule (checkpoint_reader.cc; ONNX has no magic number): the file starts with
// ModelProto's field 1, ir_version (tag byte 0x08), as every ONNX writer puts it first,
// holding a value from 1 to 1000, followed by the end or another well-formed tag.
bool LooksLikeOnnx(std::span<const std::byte> bytes);

}  // namespace htsr::readers::onnx

#endif  // HTSR_CLIENT_READERS_ONNX_FORMAT_H_
