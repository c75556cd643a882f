// Encoding and hostile-input decoding of the HDF5 child's messages (see hdf5_wire.h).
#include "readers/hdf5_wire.h"

#include <cstring>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/byte_reader.h"

namespace htsr::readers {
namespace {

constexpr char kWalkMagic[] = "HTSRH5W1";
constexpr char kEndMagic[] = "HTSREND1";
constexpr uint64_t kMaxMessage = 1 << 20;  // one status message
constexpr int kMaxRank = 32;               // H5S_MAX_RANK

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Str(absl::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Raw(absl::string_view s) { out_.append(s.data(), s.size()); }
  void Status(const absl::Status& s) {
    U64(static_cast<uint64_t>(s.code()));
    Str(s.message());
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(absl::string_view wire, const std::string& name)
      : in_(std::as_bytes(std::span<const char>(wire.data(), wire.size()))), name_(name) {}

  absl::Status Bad(absl::string_view what) const {
    return absl::InternalError(absl::StrCat(name_, ": the HDF5 reading process sent a malformed ",
                                            what, " at byte ", in_.offset()));
  }
  bool AtEnd() const { return in_.AtEnd(); }
  bool U8(uint8_t* v) { return in_.Read(v); }
  bool U64(uint64_t* v) { return in_.Read(v); }
  // A count of items that take at least `min_item` bytes each, never more than `max`.
  bool Count(uint64_t max, size_t min_item, uint64_t* v) {
    return in_.Read(v) && *v <= max && *v <= in_.remaining() / min_item;
  }
  bool Str(uint64_t max, std::string* s) {
    uint64_t n;
    std::span<const std::byte> b;
    if (!in_.Read(&n) || n > max || !in_.ReadBytes(static_cast<size_t>(n), &b)) return false;
    s->assign(reinterpret_cast<const char*>(b.data()), b.size());
    return true;
  }
  bool Magic(const char* magic) {
    std::span<const std::byte> b;
    return in_.ReadBytes(8, &b) && std::memcmp(b.data(), magic, 8) == 0;
  }
  absl::StatusOr<absl::Status> Status() {
    uint64_t code;
    std::string message;
    if (!U64(&code) || code > static_cast<uint64_t>(absl::StatusCode::kUnauthenticated) ||
        !Str(kMaxMessage, &message)) {
      return Bad("status");
    }
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }

 private:
  ByteReader in_;
  const std::string& name_;
};

bool IsReadableDType(uint8_t d) {
  const auto t = static_cast<DType>(d);
  return t == DType::kF16 || t == DType::kBF16 || t == DType::kF32 || t == DType::kF64;
}

}  // namespace

std::string EncodeWalk(const absl::StatusOr<Hdf5Walk>& walk) {
  Writer w;
  w.Raw(absl::string_view(kWalkMagic, 8));
  w.Status(walk.status());
  if (walk.ok()) {
    w.U64(walk->datasets.size());
    for (const Hdf5Dataset& d : walk->datasets) {
      w.Str(d.path);
      w.U8(static_cast<uint8_t>(d.info.dtype));
      w.U64(d.info.shape.size());
      for (int64_t dim : d.info.shape) w.U64(static_cast<uint64_t>(dim));
      w.U64(d.bytes);
      w.Str(d.unreadable);
    }
    w.U64(walk->attributes.size());
    for (const auto& [object, attrs] : walk->attributes) {
      w.Str(object);
      w.U64(attrs.size());
      for (const auto& [attr, strings] : attrs) {
        w.Str(attr);
        w.U64(strings.size());
        for (const std::string& s : strings) w.Str(s);
      }
    }
    w.U64(walk->skipped_links.size());
    for (const std::string& s : walk->skipped_links) w.Str(s);
  }
  w.Raw(absl::string_view(kEndMagic, 8));
  return w.Take();
}

absl::StatusOr<Hdf5Walk> DecodeWalk(absl::string_view wire, const std::string& name,
                                    const Hdf5Limits& limits) {
  Reader in(wire, name);
  if (!in.Magic(kWalkMagic)) return in.Bad("header");
  HTSR_ASSIGN_OR_RETURN(absl::Status status, in.Status());
  Hdf5Walk walk;
  if (status.ok()) {
    const uint64_t max_string = wire.size();
    uint64_t n;
    if (!in.Count(limits.max_datasets, 8 + 1 + 8 + 8 + 8, &n)) return in.Bad("dataset count");
    for (uint64_t i = 0; i < n; ++i) {
      Hdf5Dataset d;
      uint8_t dtype;
      uint64_t rank;
      if (!in.Str(max_string, &d.path) || d.path.empty() || !in.U8(&dtype) ||
          dtype > static_cast<uint8_t>(DType::kF8E5M2) || !in.Count(kMaxRank, 8, &rank)) {
        return in.Bad("dataset");
      }
      d.info.name = d.path;
      d.info.dtype = static_cast<DType>(dtype);
      for (uint64_t k = 0; k < rank; ++k) {
        uint64_t dim;
        if (!in.U64(&dim) || dim > static_cast<uint64_t>(INT64_MAX)) return in.Bad("dimension");
        d.info.shape.push_back(static_cast<int64_t>(dim));
      }
      if (!in.U64(&d.bytes) || !in.Str(max_string, &d.unreadable)) return in.Bad("dataset");
      // A readable dataset's size is what its dtype and shape say, within the limit: Load
      // hands out exactly that many bytes.
      if (d.unreadable.empty()) {
        const auto bytes = CheckedByteSize(d.info.shape, DTypeSize(d.info.dtype));
        if (!IsReadableDType(dtype) || !bytes || *bytes != d.bytes ||
            d.bytes > limits.max_dataset_bytes) {
          return in.Bad("dataset size");
        }
      }
      walk.datasets.push_back(std::move(d));
    }
    if (!in.Count(limits.max_objects + 1, 16, &n)) return in.Bad("attribute count");
    for (uint64_t i = 0; i < n; ++i) {
      std::string object;
      uint64_t nattrs;
      if (!in.Str(max_string, &object) || !in.Count(wire.size(), 16, &nattrs)) {
        return in.Bad("attributes");
      }
      auto& attrs = walk.attributes[object];
      for (uint64_t a = 0; a < nattrs; ++a) {
        std::string attr;
        uint64_t nstrings;
        if (!in.Str(max_string, &attr) || !in.Count(wire.size(), 8, &nstrings)) {
          return in.Bad("attribute");
        }
        auto& strings = attrs[attr];
        for (uint64_t s = 0; s < nstrings; ++s) {
          std::string v;
          if (!in.Str(limits.max_attribute_bytes, &v)) return in.Bad("attribute string");
          strings.push_back(std::move(v));
        }
      }
    }
    if (!in.Count(limits.max_objects, 8, &n)) return in.Bad("skipped-link count");
    for (uint64_t i = 0; i < n; ++i) {
      std::string s;
      if (!in.Str(max_string, &s)) return in.Bad("skipped link");
      walk.skipped_links.push_back(std::move(s));
    }
  }
  if (!in.Magic(kEndMagic) || !in.AtEnd()) return in.Bad("end");
  if (!status.ok()) return status;
  return walk;
}

std::string EncodeReadStart(uint64_t index) {
  Writer w;
  w.U8('S');
  w.U64(index);
  return w.Take();
}

std::string EncodeReadDone(uint64_t index, uint64_t offset, uint64_t length) {
  Writer w;
  w.U8('D');
  w.U64(index);
  w.U64(offset);
  w.U64(length);
  return w.Take();
}

std::string EncodeReadFailed(uint64_t index, const absl::Status& why) {
  Writer w;
  w.U8('F');
  w.U64(index);
  w.Status(why);
  return w.Take();
}

std::string EncodeBatchFailed(const absl::Status& why) {
  Writer w;
  w.U8('X');
  w.Status(why);
  return w.Take();
}

std::string EncodeReadEnd() { return std::string(1, 'E'); }

absl::StatusOr<Hdf5Reads> DecodeReads(absl::string_view wire, const std::string& name) {
  Reader in(wire, name);
  Hdf5Reads out;
  while (!in.AtEnd()) {
    if (out.complete) return in.Bad("record after the end");
    uint8_t tag;
    in.U8(&tag);
    uint64_t index = 0;
    Hdf5ReadRecord rec;
    if (tag == 'E') {
      out.complete = true;
      continue;
    }
    if (tag == 'X') {
      HTSR_ASSIGN_OR_RETURN(out.batch, in.Status());
      if (out.batch.ok()) return in.Bad("batch status");
      continue;
    }
    if (!in.U64(&index)) return in.Bad("record");  // a cut-off record: the child died
    if (tag == 'S') {
      if (out.in_progress || out.done.count(index) > 0) return in.Bad("read record");
      out.in_progress = index;
      continue;
    }
    if (out.in_progress != index) return in.Bad("read record");
    if (tag == 'D') {
      if (!in.U64(&rec.offset) || !in.U64(&rec.length)) return in.Bad("read record");
    } else if (tag == 'F') {
      HTSR_ASSIGN_OR_RETURN(rec.status, in.Status());
      if (rec.status.ok()) return in.Bad("read status");
    } else {
      return in.Bad("record tag");
    }
    out.in_progress.reset();
    out.done.emplace(index, std::move(rec));
  }
  return out;
}

}  // namespace htsr::readers
