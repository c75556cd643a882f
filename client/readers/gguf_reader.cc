// GGUF (llama.cpp / ggml), versions 2 and 3: "GGUF", u32 version, u64 tensor count, u64
// metadata count, the metadata key/values, the tensor infos (name, n_dims, ne[n_dims],
// ggml type, offset), padding to `general.alignment` (default 32), then the data section;
// each tensor's offset is relative to its start and aligned. All little-endian.
//
// ne[0] is the fastest-varying dimension, so a PyTorch weight of shape (out, in) is stored
// with ne = [in, out] in row-major (out, in) order: reversing ne gives the row-major shape
// the engine expects, with the bytes as they are. Plain float types are served from the
// mapping; block-quantised types are dequantised to float32 one tensor per Load.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/byte_reader.h"
#include "readers/format_readers.h"
#include "readers/gguf_dequant.h"
#include "readers/reader_base.h"

namespace htsr::readers {
namespace {

using gguf::GgmlRead;
using gguf::GgmlTypeInfo;

constexpr uint32_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
// Arrays of arrays: gguf-py reads them (llama.cpp does not); deeper is refused, which bounds
// the recursion.
constexpr int kMaxArrayDepth = 8;
// The smallest encodings, to refuse counts the remaining bytes cannot hold before looping.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, a u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims 0, type, offset

enum ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// Bytes of one scalar of `type`, 0 for strings and arrays, nullopt for an unknown type.
std::optional<uint64_t> ScalarSize(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    case kString:
    case kArray:
      return 0;
    default:
      return std::nullopt;
  }
}

struct Tensor {
  TensorInfo info;  // row-major shape (ne reversed); dtype as handed to the engine
  const GgmlTypeInfo* type = nullptr;
  uint64_t begin = 0;   // absolute file offset
  uint64_t nbytes = 0;  // bytes in the file
  uint64_t blocks = 0;  // nbytes / type_size
};

class GgufReader : public ReaderBase {
 public:
  explicit GgufReader(FileBytes file) : ReaderBase("gguf", file.name), file_(std::move(file)) {}

  absl::Status Parse();

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= tensors_.size()) return IndexError(index);
    const Tensor& t = tensors_[index];
    if (t.nbytes == 0) return TensorView{t.info, {}, file_.owner};
    const std::span<const std::byte> src =
        file_.bytes.subspan(static_cast<size_t>(t.begin), static_cast<size_t>(t.nbytes));
    TensorView view;
    view.info = t.info;
    if (t.type->read == GgmlRead::kView) {
      view.bytes = src;
      view.owner = ReleasingOwner(file_, src);
      return view;
    }
    // One tensor's floats at a time; the quantised pages leave the resident set when
    // `source` goes at the end of this call.
    const auto source = ReleasingOwner(file_, src);
    const size_t count = static_cast<size_t>(t.blocks) * t.type->block_size;
    auto floats = std::make_shared<std::vector<float>>(count);
    if (!gguf::Dequantize(t.type->type, src.data(), static_cast<size_t>(t.blocks),
                          floats->data())) {
      return absl::InternalError(
          absl::StrCat(Path(), ": tensor '", t.info.name, "': no ", t.type->name, " dequantiser"));
    }
    view.bytes = std::as_bytes(std::span<const float>(*floats));
    view.owner = std::move(floats);
    return view;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file_.name, ": ", what));
  }
  absl::Status Truncated(absl::string_view what, size_t at) const {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": truncated GGUF: ", what, " at byte ",
                                              at, " runs past the end of the file (",
                                              file_.bytes.size(), " bytes)"));
  }
  absl::Status ReadString(ByteReader& r, absl::string_view what, absl::string_view* out) const;
  absl::Status SkipValue(ByteReader& r, uint32_t type, int depth, const std::string& key) const;
  absl::Status ParseTensorInfo(ByteReader& r, uint64_t index, Tensor* t, size_t* info_at) const;

  FileBytes file_;
  std::vector<Tensor> tensors_;
};

absl::Status GgufReader::ReadString(ByteReader& r, absl::string_view what,
                                    absl::string_view* out) const {
  const size_t at = r.offset();
  uint64_t len;
  if (!r.Read(&len)) return Truncated(absl::StrCat(what, " length"), at);
  if (len > r.remaining()) {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": ", what, " at byte ", at, " declares ",
                                              len, " bytes but only ", r.remaining(), " remain"));
  }
  std::span<const std::byte> bytes;
  r.ReadBytes(static_cast<size_t>(len), &bytes);
  *out = absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return absl::OkStatus();
}

// Metadata values are checked and skipped, never stored: htsr needs only general.alignment.
absl::Status GgufReader::SkipValue(ByteReader& r, uint32_t type, int depth,
                                   const std::string& key) const {
  const size_t at = r.offset();
  const std::string where = absl::StrCat("metadata '", key, "'");
  const std::optional<uint64_t> size = ScalarSize(type);
  if (!size) return Error(absl::StrCat(where, ": unknown value type ", type, " at byte ", at));
  if (*size > 0) {
    if (!r.Skip(static_cast<size_t>(*size))) return Truncated(where + " value", at);
    return absl::OkStatus();
  }
  if (type == kString) {
    absl::string_view s;
    return ReadString(r, where + " string", &s);
  }
  uint32_t elem;
  uint64_t n;
  if (!r.Read(&elem) || !r.Read(&n)) return Truncated(where + " array header", at);
  const std::optional<uint64_t> elem_size = ScalarSize(elem);
  if (!elem_size) {
    return Error(absl::StrCat(where, ": array at byte ", at, " has unknown element type ", elem));
  }
  // Strings take at least their 8-byte length, arrays their 12-byte header.
  const uint64_t min_bytes = *elem_size > 0 ? *elem_size : (elem == kString ? 8 : 12);
  const std::optional<uint64_t> need = CheckedMul(n, min_bytes);
  if (!need || *need > r.remaining()) {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": ", where, ": array at byte ", at,
                                              " declares ", n, " elements, more than the ",
                                              r.remaining(), " remaining bytes can hold"));
  }
  if (*elem_size > 0) {
    r.Skip(static_cast<size_t>(*need));
    return absl::OkStatus();
  }
  if (elem == kArray && depth + 1 >= kMaxArrayDepth) {
    return Error(
        absl::StrCat(where, ": arrays nested deeper than ", kMaxArrayDepth, " at byte ", at));
  }
  for (uint64_t i = 0; i < n; ++i) HTSR_RETURN_IF_ERROR(SkipValue(r, elem, depth + 1, key));
  return absl::OkStatus();
}

absl::Status GgufReader::ParseTensorInfo(ByteReader& r, uint64_t index, Tensor* t,
                                         size_t* info_at) const {
  *info_at = r.offset();
  absl::string_view name;
  HTSR_RETURN_IF_ERROR(ReadString(r, absl::StrCat("name of tensor ", index), &name));
  t->info.name = std::string(name);
  const std::string where =
      absl::StrCat("tensor '", t->info.name, "' (info at byte ", *info_at, "): ");
  uint32_t n_dims;
  if (!r.Read(&n_dims)) return Truncated(where + "n_dims", r.offset());
  if (n_dims > kMaxDims) {
    return Error(absl::StrCat(where, "n_dims ", n_dims, " exceeds ggml's maximum of ", kMaxDims));
  }
  int64_t ne[kMaxDims] = {1, 1, 1, 1};
  for (uint32_t d = 0; d < n_dims; ++d) {
    if (!r.Read(&ne[d])) return Truncated(where + "ne", r.offset());
    if (ne[d] < 0) return Error(absl::StrCat(where, "ne[", d, "] = ", ne[d], " is negative"));
  }
  uint32_t type_id;
  uint64_t offset;
  if (!r.Read(&type_id)) return Truncated(where + "type", r.offset());
  const size_t offset_at = r.offset();
  if (!r.Read(&offset)) return Truncated(where + "offset", offset_at);
  t->type = gguf::FindGgmlType(type_id);
  if (t->type == nullptr) return Error(absl::StrCat(where, "unknown ggml type ", type_id));
  for (uint32_t d = n_dims; d-- > 0;) t->info.shape.push_back(ne[d]);
  t->info.dtype = t->type->dtype;
  const std::optional<uint64_t> count = CheckedNumElements(t->info.shape);
  if (!count) {
    return Error(absl::StrCat(where, "ne ", ShapeString(std::span<const int64_t>(ne, n_dims)),
                              " overflows"));
  }
  if (ne[0] % t->type->block_size != 0) {
    return Error(absl::StrCat(
        where, t->type->name, " stores rows of whole blocks of ", t->type->block_size,
        " values, but ne[0] (the fastest-varying dimension, the last of shape ",
        ShapeString(t->info.shape), (n_dims == 4 ? ": a conv weight's kernel width" : ""), ") is ",
        ne[0], "; ggml cannot have written this"));
  }
  t->blocks = *count / t->type->block_size;
  const std::optional<uint64_t> nbytes = CheckedMul(t->blocks, t->type->type_size);
  if (!nbytes || *nbytes > static_cast<uint64_t>(INT64_MAX) ||
      !CheckedByteSize(t->info.shape, DTypeSize(t->info.dtype))) {
    return Error(absl::StrCat(where, "size of ", ShapeString(t->info.shape), " overflows"));
  }
  t->nbytes = *nbytes;
  t->begin = offset;  // relative for now; made absolute once the data section is known
  return absl::OkStatus();
}

absl::Status GgufReader::Parse() {
  ByteReader r(file_.bytes);
  uint32_t magic, version;
  if (!r.Read(&magic) || magic != 0x46554747u) return Error("not a GGUF file (no \"GGUF\" magic)");
  if (!r.Read(&version)) return Truncated("version", 4);
  if (version == 1) {
    return Error(
        "GGUF version 1 (32-bit counts, 2023) is not supported; re-convert with a current "
        "llama.cpp");
  }
  if (version != 2 && version != 3) {
    const uint32_t swapped = __builtin_bswap32(version);
    if (swapped == 2 || swapped == 3) {
      return Error(absl::StrCat("big-endian GGUF (version ", swapped, ") is not supported"));
    }
    return Error(absl::StrCat("unknown GGUF version ", version, " (htsr reads versions 2 and 3)"));
  }
  uint64_t n_tensors, n_kv;
  if (!r.Read(&n_tensors)) return Truncated("tensor count", 8);
  if (!r.Read(&n_kv)) return Truncated("metadata count", 16);
  const std::optional<uint64_t> kv_min = CheckedMul(n_kv, kMinKvBytes);
  const std::optional<uint64_t> ti_min = CheckedMul(n_tensors, kMinTensorInfoBytes);
  const std::optional<uint64_t> min_total =
      kv_min && ti_min ? CheckedAdd(*kv_min, *ti_min) : std::nullopt;
  if (!min_total || *min_total > r.remaining()) {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": GGUF header declares ", n_tensors,
                                              " tensors and ", n_kv,
                                              " metadata entries, more than the ", r.remaining(),
                                              " bytes after the header (byte 24) can hold"));
  }

  uint32_t alignment = kDefaultAlignment;
  std::unordered_set<std::string_view> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = r.offset();
    absl::string_view key;
    HTSR_RETURN_IF_ERROR(ReadString(r, absl::StrCat("metadata key ", i), &key));
    if (!keys.insert(std::string_view(key.data(), key.size())).second) {
      return Error(absl::StrCat("duplicate metadata key '", key, "' at byte ", at));
    }
    uint32_t type;
    const size_t type_at = r.offset();
    if (!r.Read(&type)) return Truncated(absl::StrCat("metadata '", key, "' type"), type_at);
    if (key == "general.alignment") {
      // llama.cpp requires a u32 power of two.
      if (type != kU32) {
        return Error(absl::StrCat("general.alignment at byte ", at, " has value type ", type,
                                  ", expected uint32 (4)"));
      }
      const size_t value_at = r.offset();
      if (!r.Read(&alignment)) return Truncated("general.alignment value", value_at);
      if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        return Error(absl::StrCat("general.alignment ", alignment, " at byte ", value_at,
                                  " is not a power of two"));
      }
      continue;
    }
    HTSR_RETURN_IF_ERROR(SkipValue(r, type, 0, std::string(key)));
  }

  const size_t tensors_at = r.offset();
  if (const std::optional<uint64_t> need = CheckedMul(n_tensors, kMinTensorInfoBytes);
      !need || *need > r.remaining()) {
    return absl::OutOfRangeError(
        absl::StrCat(file_.name, ": GGUF header declares ", n_tensors, " tensors, more than the ",
                     r.remaining(), " bytes after the metadata (byte ", tensors_at, ") can hold"));
  }
  // Grown as infos are read (each takes at least 24 bytes), not sized by the count.
  std::vector<Tensor> all;
  std::vector<size_t> info_at;
  std::unordered_set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Tensor t;
    size_t at;
    HTSR_RETURN_IF_ERROR(ParseTensorInfo(r, i, &t, &at));
    if (!names.insert(t.info.name).second) {
      return Error(absl::StrCat("duplicate tensor name '", t.info.name, "' at byte ", at));
    }
    all.push_back(std::move(t));
    info_at.push_back(at);
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t end_of_infos = r.offset();
  const uint64_t data_start = (end_of_infos + alignment - 1) / alignment * alignment;
  const uint64_t size = file_.bytes.size();
  const uint64_t data_len = size > data_start ? size - data_start : 0;
  std::vector<std::pair<std::string, std::string>> left_out;
  std::map<std::string, size_t> dequantised;
  for (size_t i = 0; i < all.size(); ++i) {
    Tensor& t = all[i];
    const std::string where =
        absl::StrCat("tensor '", t.info.name, "' (info at byte ", info_at[i], "): ");
    const uint64_t offset = t.begin;
    if (offset % alignment != 0) {
      return Error(absl::StrCat(where, "data offset ", offset, " is not a multiple of the ",
                                "alignment ", alignment));
    }
    const std::optional<uint64_t> end = CheckedAdd(offset, t.nbytes);
    if (!end || *end > data_len) {
      return absl::OutOfRangeError(
          absl::StrCat(file_.name, ": ", where, t.type->name, " data of ", t.nbytes,
                       " bytes at offset ", offset, " (byte ", data_start, " + ", offset,
                       ") runs past the end of the file (", size, " bytes)"));
    }
    t.begin = data_start + offset;
    if (t.type->read == GgmlRead::kLeftOut) {
      left_out.emplace_back(t.info.name, t.type->name);
      continue;
    }
    if (t.type->read == GgmlRead::kDequant) ++dequantised[t.type->name];
    tensors_.push_back(std::move(t));
  }
  LeaveOut(std::move(left_out), "types");
  if (!dequantised.empty()) {
    size_t n = 0;
    std::string kinds;
    for (const auto& [name, count] : dequantised) {
      absl::StrAppend(&kinds, kinds.empty() ? "" : ", ", name, ": ", count);
      n += count;
    }
    AddNote(absl::StrCat(Path(), ": ", n, " quantised tensor", n == 1 ? "" : "s",
                         " dequantised to float32 (", kinds, ")"));
  }
  for (const Tensor& t : tensors_) {
    AddTensor(t.info, *CheckedByteSize(t.info.shape, DTypeSize(t.info.dtype)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenGguf(FileBytes file) {
  auto reader = std::make_unique<GgufReader>(std::move(file));
  HTSR_RETURN_IF_ERROR(reader->Parse());
  return reader;
}

}  // namespace htsr::readers
