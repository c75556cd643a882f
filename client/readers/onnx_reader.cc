// ONNX models (.onnx): the graph's initializers, with roles taken from the nodes that
// consume them, and external data from files beside the model.
//
// onnx_format.cc walks the protobuf framing and bounds it; this file decodes the small
// pieces it hands over with the generated htsr.onnx messages (proto/onnx/onnx_subset.proto)
// and serves tensor bytes: raw_data and external data zero-copy from their mappings, typed
// fields (float_data, double_data, int32_data holding f16/bf16) decoded on Load, one tensor
// at a time.
//
// Roles (docs/compatibility.md): an initializer that is Gemm's or MatMul's B, Conv's or
// ConvTranspose's W, or Gather's data is a weight. It is presented as "<name>.weight" (the
// name is kept when it already ends so), which makes it a layer candidate by docs/spec.md
// §1's name rule and keeps the layer name equal to the initializer's name. Weights stored
// (in, out) — MatMul's B, Gemm's B with transB = 0 — are read transposed to PyTorch's
// (out, in), so shapes, N and M match the framework the model came from. Every other
// initializer keeps its name and the default rule by name and shape applies.
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "onnx/onnx_subset.pb.h"
#include "readers/format_readers.h"
#include "readers/onnx_format.h"
#include "readers/reader_base.h"
#include "readers/strided_copy.h"

namespace htsr::readers {
namespace {

namespace pb = ::htsr::onnx;
using onnx::WireTensor;

// Which way a weight input holds its matrix.
enum class Role : uint8_t { kNone, kAsStored, kTransposed };

struct RoleInfo {
  Role role = Role::kNone;
  std::string op;  // the first consumer that gave the role
};

struct OnnxType {
  std::optional<DType> dtype;  // set when htsr analyses it
  const char* name = "";
  int bits = 0;  // per element; 0 when not fixed (strings, unknown codes)
};

OnnxType TypeOf(int32_t code) {
  switch (code) {
    case pb::TensorProto::FLOAT:
      return {DType::kF32, "FLOAT", 32};
    case pb::TensorProto::DOUBLE:
      return {DType::kF64, "DOUBLE", 64};
    case pb::TensorProto::FLOAT16:
      return {DType::kF16, "FLOAT16", 16};
    case pb::TensorProto::BFLOAT16:
      return {DType::kBF16, "BFLOAT16", 16};
    case pb::TensorProto::UINT8:
      return {std::nullopt, "UINT8", 8};
    case pb::TensorProto::INT8:
      return {std::nullopt, "INT8", 8};
    case pb::TensorProto::UINT16:
      return {std::nullopt, "UINT16", 16};
    case pb::TensorProto::INT16:
      return {std::nullopt, "INT16", 16};
    case pb::TensorProto::INT32:
      return {std::nullopt, "INT32", 32};
    case pb::TensorProto::INT64:
      return {std::nullopt, "INT64", 64};
    case pb::TensorProto::STRING:
      return {std::nullopt, "STRING", 0};
    case pb::TensorProto::BOOL:
      return {std::nullopt, "BOOL", 8};
    case pb::TensorProto::UINT32:
      return {std::nullopt, "UINT32", 32};
    case pb::TensorProto::UINT64:
      return {std::nullopt, "UINT64", 64};
    case pb::TensorProto::COMPLEX64:
      return {std::nullopt, "COMPLEX64", 64};
    case pb::TensorProto::COMPLEX128:
      return {std::nullopt, "COMPLEX128", 128};
    case pb::TensorProto::FLOAT8E4M3FN:
      return {std::nullopt, "FLOAT8E4M3FN", 8};
    case pb::TensorProto::FLOAT8E4M3FNUZ:
      return {std::nullopt, "FLOAT8E4M3FNUZ", 8};
    case pb::TensorProto::FLOAT8E5M2:
      return {std::nullopt, "FLOAT8E5M2", 8};
    case pb::TensorProto::FLOAT8E5M2FNUZ:
      return {std::nullopt, "FLOAT8E5M2FNUZ", 8};
    case pb::TensorProto::UINT4:
      return {std::nullopt, "UINT4", 4};
    case pb::TensorProto::INT4:
      return {std::nullopt, "INT4", 4};
    case pb::TensorProto::FLOAT4E2M1:
      return {std::nullopt, "FLOAT4E2M1", 4};
    default:
      return {std::nullopt, "", 0};
  }
}

// The typed field that holds a tensor of an analysed type when it has no raw_data.
uint32_t TypedFieldOf(DType t) {
  switch (t) {
    case DType::kF32:
      return onnx::kFloatData;
    case DType::kF64:
      return onnx::kDoubleData;
    default:
      return onnx::kInt32Data;  // FLOAT16 and BFLOAT16: 16 bits in each int32
  }
}

const char* FieldName(uint32_t field) {
  switch (field) {
    case onnx::kFloatData:
      return "float_data";
    case onnx::kInt32Data:
      return "int32_data";
    case onnx::kStringData:
      return "string_data";
    case onnx::kInt64Data:
      return "int64_data";
    case onnx::kDoubleData:
      return "double_data";
    case onnx::kUint64Data:
      return "uint64_data";
    default:
      return "raw_data";
  }
}

struct Entry {
  std::string onnx_name;
  TensorInfo info;              // as presented (name, shape after transposition)
  std::vector<int64_t> stored;  // shape as stored
  bool transpose = false;       // rank 2, stored (in, out)
  // Where the bytes are: a span of a mapping (raw_data or external data, `file` owns it),
  // or typed fields decoded on Load.
  std::span<const std::byte> bytes;
  const FileBytes* file = nullptr;
  uint64_t offset = 0;  // of the data in its file, for messages
  WireTensor::Typed typed;
};

class OnnxReader : public ReaderBase {
 public:
  explicit OnnxReader(FileBytes file) : ReaderBase("onnx", file.name), file_(std::move(file)) {}

  absl::Status Parse();
  absl::StatusOr<TensorView> Load(size_t index) const override;

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Path(), ": ", what));
  }
  absl::Status AddNode(const onnx::WireNode& node);
  // Validates one initializer; fills `e` (analysed) or `left_out` (name, type).
  absl::Status AddInitializer(const WireTensor& w, std::vector<Entry>* entries,
                              std::vector<std::pair<std::string, std::string>>* left_out);
  absl::Status External(const pb::TensorProto& t, const std::string& where,
                        std::optional<uint64_t> nbytes, Entry* e);
  absl::StatusOr<const FileBytes*> MapExternal(const std::string& location,
                                               const std::string& where);

  FileBytes file_;
  std::unordered_map<std::string, RoleInfo> roles_;
  std::map<std::string, std::unique_ptr<FileBytes>> external_files_;  // by resolved path
  std::vector<Entry> entries_;
};

absl::Status OnnxReader::AddNode(const onnx::WireNode& w) {
  pb::NodeProto node;
  if (!node.ParseFromString(w.encoding)) {
    return Error(absl::StrCat("node at byte ", w.offset, ": cannot be decoded"));
  }
  if (!node.domain().empty() && node.domain() != "ai.onnx") return absl::OkStatus();
  const std::string& op = node.op_type();
  auto give = [&](int input, Role role) {
    if (node.input_size() > input && !node.input(input).empty()) {
      roles_.emplace(node.input(input), RoleInfo{role, op});  // the first consumer decides
    }
  };
  if (op == "Gemm") {
    int64_t trans_b = 0;
    for (const pb::AttributeProto& a : node.attribute()) {
      if (a.name() == "transB") trans_b = a.i();
    }
    give(1, trans_b != 0 ? Role::kAsStored : Role::kTransposed);
  } else if (op == "MatMul") {
    give(1, Role::kTransposed);
  } else if (op == "Conv" || op == "ConvTranspose") {
    give(1, Role::kAsStored);
  } else if (op == "Gather") {
    give(0, Role::kAsStored);
  }
  return absl::OkStatus();
}

absl::Status OnnxReader::AddInitializer(
    const WireTensor& w, std::vector<Entry>* entries,
    std::vector<std::pair<std::string, std::string>>* left_out) {
  pb::TensorProto t;
  if (!t.ParseFromString(w.header)) {
    return Error(
        absl::StrCat("initializer #", w.index, " at byte ", w.offset, ": cannot be decoded"));
  }
  if (t.name().empty()) {
    return Error(absl::StrCat("initializer #", w.index, " at byte ", w.offset, " has no name"));
  }
  const std::string where =
      absl::StrCat("tensor '", t.name(), "' (initializer #", w.index, " at byte ", w.offset, ")");
  Entry e;
  e.onnx_name = t.name();
  e.stored.assign(t.dims().begin(), t.dims().end());
  for (int64_t d : e.stored) {
    if (d < 0) return Error(absl::StrCat(where, ": negative dimension in ", ShapeString(e.stored)));
  }
  const std::optional<uint64_t> count = CheckedNumElements(e.stored);
  if (!count) return Error(absl::StrCat(where, ": shape ", ShapeString(e.stored), " overflows"));
  if (t.has_segment()) return Error(where + ": segmented tensors are not supported");
  if (!t.has_data_type() || t.data_type() == pb::TensorProto::UNDEFINED) {
    return Error(where + ": data_type is missing");
  }
  const OnnxType type = TypeOf(t.data_type());
  std::optional<uint64_t> nbytes;
  if (type.bits > 0) {
    const std::optional<uint64_t> bits = CheckedMul(*count, static_cast<uint64_t>(type.bits));
    if (!bits || *bits / 8 > static_cast<uint64_t>(INT64_MAX)) {
      return Error(absl::StrCat(where, ": shape ", ShapeString(e.stored), " overflows"));
    }
    nbytes = (*bits + 7) / 8;  // sub-byte types pack two values into a byte
  }
  const bool external = t.data_location() == pb::TensorProto::EXTERNAL;
  if (t.data_location() != pb::TensorProto::DEFAULT && !external) {
    return Error(absl::StrCat(where, ": unknown data_location ", t.data_location()));
  }
  if (external && (w.has_raw_data || !w.typed.empty())) {
    return Error(where + ": external data and data inside the model at once");
  }
  if (w.has_raw_data && !w.typed.empty()) {
    return Error(absl::StrCat(where, ": both raw_data and ", FieldName(w.typed[0].field)));
  }
  if (w.typed.size() > 1) {
    return Error(absl::StrCat(where, ": both ", FieldName(w.typed[0].field), " and ",
                              FieldName(w.typed[1].field)));
  }
  if (external) {
    HTSR_RETURN_IF_ERROR(External(t, where, nbytes, &e));
  } else if (w.has_raw_data) {
    if (nbytes && w.raw_data.size() != *nbytes) {
      return Error(absl::StrCat(where, ": raw_data at byte ", w.raw_data_offset, " holds ",
                                w.raw_data.size(), " bytes but shape ", ShapeString(e.stored),
                                " of ", type.name, " needs ", *nbytes));
    }
    e.bytes = w.raw_data;
    e.file = &file_;
    e.offset = w.raw_data_offset;
  } else if (type.dtype && !w.typed.empty()) {
    const WireTensor::Typed& typed = w.typed[0];
    if (typed.field != TypedFieldOf(*type.dtype)) {
      return Error(absl::StrCat(where, ": ", type.name, " data in ", FieldName(typed.field),
                                " (at byte ", typed.offset, ")"));
    }
    if (typed.elements != *count) {
      return Error(absl::StrCat(where, ": ", FieldName(typed.field), " at byte ", typed.offset,
                                " holds ", typed.elements, " values but shape ",
                                ShapeString(e.stored), " needs ", *count));
    }
    e.typed = typed;
  } else if (type.dtype && *count != 0) {
    return Error(absl::StrCat(where, ": has no data (no raw_data, ",
                              FieldName(TypedFieldOf(*type.dtype)), " or external data) for shape ",
                              ShapeString(e.stored)));
  }
  if (!type.dtype) {
    left_out->emplace_back(t.name(),
                           *type.name ? type.name : absl::StrCat("data type ", t.data_type()));
    return absl::OkStatus();
  }
  e.info.dtype = *type.dtype;
  e.info.name = t.name();
  e.info.shape = e.stored;
  entries->push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status OnnxReader::External(const pb::TensorProto& t, const std::string& where,
                                  std::optional<uint64_t> nbytes, Entry* e) {
  std::string location;
  std::optional<uint64_t> offset, length;
  for (const pb::StringStringEntryProto& kv : t.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
      continue;
    }
    if (kv.key() != "offset" && kv.key() != "length") continue;  // checksum, basepath
    uint64_t v;
    if (kv.value().empty() ||
        !std::all_of(kv.value().begin(), kv.value().end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(kv.value(), &v)) {
      return Error(absl::StrCat(where, ": external_data ", kv.key(), " '", kv.value().substr(0, 32),
                                "' is not a non-negative integer"));
    }
    (kv.key() == "offset" ? offset : length) = v;
  }
  if (location.empty()) return Error(where + ": external data without a location");
  HTSR_ASSIGN_OR_RETURN(const FileBytes* ext, MapExternal(location, where));
  const uint64_t size = ext->bytes.size();
  const uint64_t begin = offset.value_or(0);
  if (length && nbytes && *length != *nbytes) {
    return Error(absl::StrCat(where, ": external_data length ", *length, " but shape ",
                              ShapeString(e->stored), " needs ", *nbytes, " bytes"));
  }
  const uint64_t len = nbytes ? *nbytes : length.value_or(size > begin ? size - begin : 0);
  if (begin > size || len > size - begin) {
    return absl::OutOfRangeError(
        absl::StrCat(Path(), ": ", where, ": external data '", location, "' at offset ", begin,
                     " of ", len, " bytes is past the end of ", ext->name, " (", size, " bytes)"));
  }
  e->bytes = ext->bytes.subspan(static_cast<size_t>(begin), static_cast<size_t>(len));
  e->file = ext;
  e->offset = begin;
  return absl::OkStatus();
}

// An external data location is a path relative to the model's folder. One that leaves the
// folder (absolute, "..", or through a symbolic link) would let a model read any file the
// user can, so it is refused.
absl::StatusOr<const FileBytes*> OnnxReader::MapExternal(const std::string& location,
                                                         const std::string& where) {
  const std::string quoted = absl::StrCat("external data location '", location.substr(0, 256), "'");
  if (!file_.mapped) {
    return Error(absl::StrCat(where, ": ", quoted,
                              ": a model read from memory has no folder to read it from"));
  }
  if (location.find('\0') != std::string::npos || location.front() == '/') {
    return absl::PermissionDeniedError(
        absl::StrCat(Path(), ": ", where, ": ", quoted,
                     " is refused: it must be relative to the model's folder"));
  }
  for (absl::string_view part : absl::StrSplit(location, '/')) {
    if (part == "..") {
      return absl::PermissionDeniedError(absl::StrCat(
          Path(), ": ", where, ": ", quoted, " is refused: '..' leaves the model's folder"));
    }
  }
  const size_t slash = Path().find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : Path().substr(0, slash + 1);
  char real_dir[PATH_MAX];
  char real_file[PATH_MAX];
  if (::realpath(dir.c_str(), real_dir) == nullptr) {
    return absl::NotFoundError(absl::StrCat(Path(), ": cannot resolve the model's folder"));
  }
  const std::string candidate = absl::StrCat(real_dir, "/", location);
  if (::realpath(candidate.c_str(), real_file) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(Path(), ": ", where, ": ", quoted, ": no such file beside the model"));
  }
  const std::string resolved(real_file);
  const std::string prefix = std::string(real_dir) == "/" ? "/" : absl::StrCat(real_dir, "/");
  if (!absl::StartsWith(resolved, prefix)) {
    return absl::PermissionDeniedError(absl::StrCat(
        Path(), ": ", where, ": ", quoted,
        " is refused: a symbolic link takes it out of the model's folder (to ", resolved, ")"));
  }
  auto it = external_files_.find(resolved);
  if (it == external_files_.end()) {
    HTSR_ASSIGN_OR_RETURN(FileBytes mapped, MapFile(resolved));
    it = external_files_.emplace(resolved, std::make_unique<FileBytes>(std::move(mapped))).first;
  }
  return it->second.get();
}

absl::Status OnnxReader::Parse() {
  std::vector<WireTensor> wire;
  onnx::WireVisitor visitor;
  visitor.node = [this](onnx::WireNode n) { return AddNode(n); };
  visitor.initializer = [&wire](WireTensor t) {
    wire.push_back(std::move(t));
    return absl::OkStatus();
  };
  onnx::WireModel model;
  HTSR_RETURN_IF_ERROR(onnx::WalkOnnxModel(file_.bytes, Path(), visitor, &model));

  std::vector<std::pair<std::string, std::string>> left_out;
  for (const WireTensor& w : wire) HTSR_RETURN_IF_ERROR(AddInitializer(w, &entries_, &left_out));
  // ONNX requires unique names (a graph's values are named by them).
  std::set<std::string> names;
  for (size_t i = 0; i < entries_.size() + left_out.size(); ++i) {
    const std::string& name =
        i < entries_.size() ? entries_[i].onnx_name : left_out[i - entries_.size()].first;
    if (!names.insert(name).second) {
      return Error(absl::StrCat("initializer name '", name, "' appears twice"));
    }
  }
  size_t renamed = 0, transposed = 0;
  for (Entry& e : entries_) {
    const auto it = roles_.find(e.onnx_name);
    const size_t rank = e.stored.size();
    if (it == roles_.end()) continue;
    const std::string& op = it->second.op;
    const bool fits =
        (op == "Conv" || op == "ConvTranspose") ? (rank == 3 || rank == 4) : rank == 2;
    if (!fits) continue;
    if (!absl::EndsWith(e.onnx_name, ".weight") && !names.count(e.onnx_name + ".weight")) {
      e.info.name = e.onnx_name + ".weight";
      ++renamed;
    }
    if (it->second.role == Role::kTransposed) {
      e.transpose = true;
      e.info.shape = {e.stored[1], e.stored[0]};
      ++transposed;
    }
  }
  for (const Entry& e : entries_) {
    AddTensor(e.info, *CheckedByteSize(e.info.shape, DTypeSize(e.info.dtype)));
  }
  LeaveOut(std::move(left_out), "data types");
  if (renamed > 0) {
    AddNote(absl::StrCat(Path(), ": ", renamed,
                         renamed == 1 ? " initializer feeds" : " initializers feed",
                         " a weight input (Gemm or MatMul B, Conv W, Gather data), listed as "
                         "'<initializer>.weight'",
                         transposed > 0 ? absl::StrCat("; ", transposed,
                                                       " stored (in, out) (MatMul, Gemm with "
                                                       "transB=0) are read transposed to (out, in)")
                                        : ""));
  }
  if (model.sparse_initializers > 0) {
    AddNote(absl::StrCat(Path(), ": left out ", model.sparse_initializers,
                         " sparse initializers (htsr reads dense tensors only)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TensorView> OnnxReader::Load(size_t index) const {
  if (index >= entries_.size()) return IndexError(index);
  const Entry& e = entries_[index];
  const size_t elem = DTypeSize(e.info.dtype);
  const size_t nbytes = static_cast<size_t>(*CheckedByteSize(e.stored, elem));
  std::span<const std::byte> bytes = e.bytes;
  std::shared_ptr<const void> owner;
  if (e.file != nullptr) {
    owner = ReleasingOwner(*e.file, bytes);
  } else if (nbytes > 0) {
    // Typed fields: decoded here, one tensor at a time, by the generated parser.
    std::string encoded;
    for (const auto& run : e.typed.runs) {
      encoded.append(reinterpret_cast<const char*>(run.data()), run.size());
    }
    pb::TensorProto t;
    const std::string where =
        absl::StrCat(Path(), ": tensor '", e.onnx_name, "': ", FieldName(e.typed.field),
                     " at byte ", e.typed.offset);
    if (!t.ParseFromString(encoded))
      return absl::InvalidArgumentError(where + ": cannot be decoded");
    auto out = std::make_shared<std::vector<std::byte>>(nbytes);
    const size_t count = nbytes / elem;
    if (e.typed.field == onnx::kFloatData && static_cast<size_t>(t.float_data_size()) == count) {
      std::memcpy(out->data(), t.float_data().data(), nbytes);
    } else if (e.typed.field == onnx::kDoubleData &&
               static_cast<size_t>(t.double_data_size()) == count) {
      std::memcpy(out->data(), t.double_data().data(), nbytes);
    } else if (e.typed.field == onnx::kInt32Data &&
               static_cast<size_t>(t.int32_data_size()) == count) {
      for (size_t i = 0; i < count; ++i) {
        const int32_t v = t.int32_data(static_cast<int>(i));
        if (v < 0 || v > 0xffff) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": value ", i, " (", v,
                                                         ") is not the 16 bits of a ",
                                                         std::string(DTypeName(e.info.dtype))));
        }
        const auto bits = static_cast<uint16_t>(v);
        std::memcpy(out->data() + 2 * i, &bits, 2);
      }
    } else {
      return absl::InvalidArgumentError(where + ": value count does not match the shape");
    }
    bytes = std::span<const std::byte>(out->data(), out->size());
    owner = std::move(out);
  }
  TensorView view;
  view.info = e.info;
  if (!e.transpose || nbytes == 0) {
    view.bytes = bytes;
    view.owner = std::move(owner);
    return view;
  }
  // Stored (in, out), row-major: element [o][i] of the (out, in) view is at i * out + o.
  const std::vector<int64_t> strides = {1, e.stored[1]};
  const std::string what = absl::StrCat(Path(), ": tensor '", e.onnx_name, "'");
  HTSR_RETURN_IF_ERROR(CheckStridedBounds(e.info.shape, strides, 0, elem, bytes.size(), what));
  auto copy = std::make_shared<std::vector<std::byte>>(nbytes);
  CopyStrided(bytes, e.info.shape, strides, 0, elem, false, copy->data());
  view.bytes = std::span<const std::byte>(copy->data(), copy->size());
  view.owner = std::move(copy);
  return view;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenOnnx(FileBytes file) {
  auto reader = std::make_unique<OnnxReader>(std::move(file));
  HTSR_RETURN_IF_ERROR(reader->Parse());
  return reader;
}

}  // namespace htsr::readers
