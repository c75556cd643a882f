// safetensors: an 8-byte little-endian header length, a JSON header, then raw
// little-endian row-major tensor bytes addressed by data_offsets relative to the end of
// the header. Served zero-copy from the mapping.
//
// The layout rules are the safetensors library's own (its Metadata::validate and
// read_metadata): the header is UTF-8; sorted by data_offsets, each tensor starts where the
// previous one ends, the first at 0, and the last ends at the end of the file, so tensors
// neither overlap nor leave gaps or trailing bytes. A file breaking them is refused, as the
// library refuses it (docs/compatibility.md).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/byte_reader.h"
#include "readers/format_readers.h"
#include "readers/json_parser.h"
#include "readers/reader_base.h"

namespace htsr::readers {
namespace {

// Upstream safetensors refuses headers above 100 MB; so do we, before parsing.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

struct Entry {
  TensorInfo info;
  uint64_t begin = 0;  // absolute file offsets
  uint64_t end = 0;
  // Set for a valid entry of a dtype htsr does not read: the tensor is left out, with a
  // note, instead of refusing the whole file.
  std::string unread_dtype;
};

// safetensors dtypes that hold no weights htsr analyses (integer codes, complex numbers,
// block-scale exponents, sub-byte floats of quantised formats), with their bits per
// element for the size check. Anything else unknown is refused: it may be a corrupt header.
std::optional<uint64_t> UnreadDTypeBits(std::string_view dtype) {
  struct Known {
    std::string_view name;
    uint64_t bits;
  };
  static constexpr Known kKnown[] = {
      {"U16", 16},    {"U32", 32}, {"U64", 64},    {"C64", 64},
      {"F8_E8M0", 8}, {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6},
  };
  for (const Known& k : kKnown) {
    if (k.name == dtype) return k.bits;
  }
  return std::nullopt;
}

// Offset of the first byte that does not belong to well-formed UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed too), or nullopt.
std::optional<size_t> FirstInvalidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return i;
    }
    i += len;
  }
  return std::nullopt;
}

class SafetensorsReader : public ReaderBase {
 public:
  explicit SafetensorsReader(FileBytes file)
      : ReaderBase("safetensors", file.name), file_(std::move(file)) {}

  absl::Status Parse();

  absl::StatusOr<TensorView> Load(size_t index) const override {
    if (index >= entries_.size()) return IndexError(index);
    const Entry& e = entries_[index];
    TensorView view;
    view.info = e.info;
    view.bytes =
        file_.bytes.subspan(static_cast<size_t>(e.begin), static_cast<size_t>(e.end - e.begin));
    view.owner = ReleasingOwner(file_, view.bytes);
    return view;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file_.name, ": ", what));
  }
  absl::Status ParseEntry(const std::string& name, const JsonValue& v, uint64_t data_start,
                          Entry* out) const;
  absl::Status CheckLayout(std::vector<const Entry*> all, uint64_t data_start) const;

  FileBytes file_;
  std::vector<Entry> entries_;
};

absl::Status SafetensorsReader::ParseEntry(const std::string& name, const JsonValue& v,
                                           uint64_t data_start, Entry* out) const {
  const std::string where = absl::StrCat("tensor '", name, "': ");
  if (!v.IsObject()) return Error(where + "header entry is not an object");
  const JsonValue* dtype = v.Find("dtype");
  const JsonValue* shape = v.Find("shape");
  const JsonValue* offsets = v.Find("data_offsets");
  if (dtype == nullptr || !dtype->IsString()) return Error(where + "missing string 'dtype'");
  if (shape == nullptr || !shape->IsArray()) return Error(where + "missing array 'shape'");
  if (offsets == nullptr || !offsets->IsArray() || offsets->array.size() != 2) {
    return Error(where + "'data_offsets' must be an array of two integers");
  }
  const std::optional<DType> dt = ParseSafetensorsDType(dtype->text);
  const std::optional<uint64_t> unread_bits = UnreadDTypeBits(dtype->text);
  if (!dt && !unread_bits) {
    return Error(absl::StrCat(where, "unknown dtype '", dtype->text, "'"));
  }
  out->info.name = name;
  if (dt) {
    out->info.dtype = *dt;
  } else {
    out->unread_dtype = dtype->text;
  }
  for (const JsonValue& d : shape->array) {
    const std::optional<uint64_t> dim = d.AsUint64();
    if (!dim || *dim > static_cast<uint64_t>(INT64_MAX)) {
      return Error(where + "shape entries must be non-negative integers");
    }
    out->info.shape.push_back(static_cast<int64_t>(*dim));
  }
  std::optional<uint64_t> nbytes;
  if (dt) {
    nbytes = CheckedByteSize(out->info.shape, DTypeSize(*dt));
  } else if (const std::optional<uint64_t> n = CheckedNumElements(out->info.shape)) {
    // Sub-byte types are packed; safetensors requires whole bytes.
    if (const std::optional<uint64_t> bits = CheckedMul(*n, *unread_bits); bits && *bits % 8 == 0) {
      nbytes = *bits / 8;
    } else if (bits) {
      return Error(absl::StrCat(where, "shape ", ShapeString(out->info.shape), " of ", dtype->text,
                                " is not a whole number of bytes"));
    }
  }
  if (!nbytes) return Error(where + "shape " + ShapeString(out->info.shape) + " overflows");
  const std::optional<uint64_t> begin = offsets->array[0].AsUint64();
  const std::optional<uint64_t> end = offsets->array[1].AsUint64();
  if (!begin || !end) return Error(where + "data_offsets must be non-negative integers");
  if (*end < *begin) {
    return Error(absl::StrCat(where, "data_offsets [", *begin, ", ", *end, "] are reversed"));
  }
  const uint64_t data_len = file_.bytes.size() - data_start;
  if (*end > data_len) {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": ", where, "data_offsets end ", *end,
                                              " is past the end of the data "
                                              "section (",
                                              data_len, " bytes from byte ", data_start,
                                              "; the file has ", file_.bytes.size(), " bytes)"));
  }
  if (*end - *begin != *nbytes) {
    return Error(absl::StrCat(where, "data_offsets [", *begin, ", ", *end, "] hold ", *end - *begin,
                              " bytes but shape ", ShapeString(out->info.shape), " of ",
                              dtype->text, " needs ", *nbytes));
  }
  out->begin = data_start + *begin;
  out->end = data_start + *end;
  return absl::OkStatus();
}

absl::Status SafetensorsReader::CheckLayout(std::vector<const Entry*> all,
                                            uint64_t data_start) const {
  // The library's order: by data_offsets (a stable sort keeps ties, empty tensors, in
  // name order so the error names the same tensor every time).
  std::sort(all.begin(), all.end(),
            [](const Entry* a, const Entry* b) { return a->info.name < b->info.name; });
  std::stable_sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t expected = data_start;  // where the next tensor must begin
  const Entry* prev = nullptr;
  for (const Entry* e : all) {
    if (e->begin != expected) {
      const std::string offsets =
          absl::StrCat("data_offsets [", e->begin - data_start, ", ", e->end - data_start, "]");
      if (e->begin < expected) {
        return Error(absl::StrCat("tensor '", e->info.name, "': ", offsets, " overlap tensor '",
                                  prev->info.name, "' (data_offsets [", prev->begin - data_start,
                                  ", ", prev->end - data_start, "])"));
      }
      return Error(absl::StrCat("tensor '", e->info.name, "': ", offsets, " leave a gap of ",
                                e->begin - expected, " bytes at data offset ",
                                expected - data_start, " (byte ", expected,
                                " of the file) that no tensor covers"));
    }
    expected = e->end;
    prev = e;
  }
  if (expected != file_.bytes.size()) {
    return Error(absl::StrCat(file_.bytes.size() - expected, " trailing bytes from data offset ",
                              expected - data_start, " (byte ", expected,
                              " of the file) belong to no tensor"));
  }
  return absl::OkStatus();
}

absl::Status SafetensorsReader::Parse() {
  ByteReader r(file_.bytes);
  uint64_t header_len;
  if (!r.Read(&header_len)) {
    return Error(absl::StrCat("file of ", file_.bytes.size(),
                              " bytes is too short for the 8-byte header length"));
  }
  if (header_len > kMaxHeaderBytes) {
    return Error(absl::StrCat("header length ", header_len, " exceeds the limit of ",
                              kMaxHeaderBytes, " bytes"));
  }
  if (header_len > r.remaining()) {
    return absl::OutOfRangeError(absl::StrCat(file_.name, ": header length ", header_len,
                                              " is past the end of the file (", file_.bytes.size(),
                                              " bytes)"));
  }
  std::span<const std::byte> header;
  r.ReadBytes(static_cast<size_t>(header_len), &header);
  const absl::string_view text(reinterpret_cast<const char*>(header.data()), header.size());
  if (const std::optional<size_t> bad = FirstInvalidUtf8(text)) {
    return Error(absl::StrFormat("header is not valid UTF-8 (byte 0x%02x at byte %d of the file)",
                                 static_cast<unsigned char>(text[*bad]), 8 + *bad));
  }
  absl::StatusOr<JsonValue> json = ParseJson(text, JsonLimits{.max_depth = 8});
  if (!json.ok()) {
    return Error(absl::StrCat("header (starting at byte 8): ", json.status().message()));
  }
  if (!json->IsObject()) return Error("header is not a JSON object");
  const uint64_t data_start = 8 + header_len;
  std::vector<Entry> unread;
  for (const auto& [name, value] : json->object) {
    if (name == "__metadata__") continue;  // free-form strings, nothing we use
    Entry e;
    HTSR_RETURN_IF_ERROR(ParseEntry(name, value, data_start, &e));
    if (!e.unread_dtype.empty()) {
      unread.push_back(std::move(e));
      continue;
    }
    entries_.push_back(std::move(e));
  }
  std::vector<const Entry*> all;
  for (const Entry& e : entries_) all.push_back(&e);
  for (const Entry& e : unread) all.push_back(&e);
  HTSR_RETURN_IF_ERROR(CheckLayout(std::move(all), data_start));
  std::sort(unread.begin(), unread.end(),
            [](const Entry& a, const Entry& b) { return a.info.name < b.info.name; });
  std::vector<std::pair<std::string, std::string>> left_out;
  for (Entry& e : unread) left_out.emplace_back(std::move(e.info.name), e.unread_dtype);
  LeaveOut(std::move(left_out), "dtypes");
  // docs/spec.md §1: without an order of its own, a safetensors file is read in the order of its
  // names sorted as plain byte strings — what the reference's safe_open(...).keys() yields.
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.info.name < b.info.name; });
  for (const Entry& e : entries_) AddTensor(e.info, e.end - e.begin);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CheckpointReader>> OpenSafetensors(FileBytes file) {
  auto reader = std::make_unique<SafetensorsReader>(std::move(file));
  HTSR_RETURN_IF_ERROR(reader->Parse());
  return reader;
}

}  // namespace htsr::readers
