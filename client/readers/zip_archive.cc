#include "readers/zip_archive.h"

#include <zlib.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/base/checked_math.h"
#include "htsr/status_macros.h"
#include "readers/byte_reader.h"

namespace htsr::readers {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
// Deflate cannot expand data more than about 1032:1; a larger declared size is a lie
// meant to make us allocate.
constexpr uint64_t kMaxDeflateRatio = 1032;

}  // namespace

bool LooksLikeZip(std::span<const std::byte> bytes) {
  if (bytes.size() < 4) return false;
  const uint32_t sig = LoadLE<uint32_t>(bytes, 0);
  return sig == kLocalHeaderSig || sig == kEocdSig;
}

absl::StatusOr<ZipArchive> ZipArchive::Open(FileBytes file) {
  ZipArchive zip(std::move(file));
  HTSR_RETURN_IF_ERROR(zip.ParseCentralDirectory());
  return zip;
}

const ZipEntry* ZipArchive::Find(absl::string_view name) const {
  for (const ZipEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

absl::Status ZipArchive::ParseCentralDirectory() {
  const auto data = file_.bytes;
  const std::string& fname = file_.name;
  auto bad = [&](uint64_t offset, absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(fname, ": zip: ", what, " (at byte ", offset, ")"));
  };
  if (data.size() < kEocdSize) {
    return absl::InvalidArgumentError(
        absl::StrCat(fname, ": zip: file of ", data.size(), " bytes has no end record"));
  }
  // The end record sits within the last 22 + 65535 (comment) bytes; search backwards.
  size_t eocd = SIZE_MAX;
  const size_t lowest = data.size() >= kEocdSize + 0xffff ? data.size() - kEocdSize - 0xffff : 0;
  for (size_t p = data.size() - kEocdSize + 1; p-- > lowest;) {
    if (LoadLE<uint32_t>(data, p) == kEocdSig) {
      eocd = p;
      break;
    }
  }
  if (eocd == SIZE_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat(fname, ": zip: end of central directory record not found"));
  }
  uint64_t count = LoadLE<uint16_t>(data, eocd + 10);
  uint64_t cd_size = LoadLE<uint32_t>(data, eocd + 12);
  uint64_t cd_offset = LoadLE<uint32_t>(data, eocd + 16);
  if (count == 0xffff || cd_size == 0xffffffff || cd_offset == 0xffffffff) {
    // ZIP64: the locator just before the end record points at the ZIP64 end record.
    if (eocd < kZip64LocatorSize ||
        LoadLE<uint32_t>(data, eocd - kZip64LocatorSize) != kZip64LocatorSig) {
      return bad(eocd, "ZIP64 sizes announced but no ZIP64 locator");
    }
    const uint64_t rec = LoadLE<uint64_t>(data, eocd - kZip64LocatorSize + 8);
    if (rec > data.size() || data.size() - rec < 56 ||
        LoadLE<uint32_t>(data, static_cast<size_t>(rec)) != kZip64EocdSig) {
      return bad(rec, "bad ZIP64 end of central directory record");
    }
    count = LoadLE<uint64_t>(data, static_cast<size_t>(rec) + 32);
    cd_size = LoadLE<uint64_t>(data, static_cast<size_t>(rec) + 40);
    cd_offset = LoadLE<uint64_t>(data, static_cast<size_t>(rec) + 48);
  }
  if (cd_offset > data.size() || cd_size > data.size() - cd_offset) {
    return bad(cd_offset, absl::StrCat("central directory of ", cd_size,
                                       " bytes lies past the end of the file"));
  }
  if (count > cd_size / kCentralHeaderSize) {
    return bad(cd_offset, absl::StrCat(count, " entries cannot fit in a central directory of ",
                                       cd_size, " bytes"));
  }
  ByteReader r(data.subspan(static_cast<size_t>(cd_offset), static_cast<size_t>(cd_size)));
  entries_.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t at = cd_offset + r.offset();
    uint32_t sig;
    uint16_t made_by, needed, flags, method, mtime, mdate, name_len, extra_len, comment_len, disk,
        internal_attr;
    uint32_t crc, csize32, usize32, external_attr, offset32;
    if (!r.Read(&sig) || sig != kCentralHeaderSig) return bad(at, "bad central directory entry");
    if (!r.Read(&made_by) || !r.Read(&needed) || !r.Read(&flags) || !r.Read(&method) ||
        !r.Read(&mtime) || !r.Read(&mdate) || !r.Read(&crc) || !r.Read(&csize32) ||
        !r.Read(&usize32) || !r.Read(&name_len) || !r.Read(&extra_len) || !r.Read(&comment_len) ||
        !r.Read(&disk) || !r.Read(&internal_attr) || !r.Read(&external_attr) ||
        !r.Read(&offset32)) {
      return bad(at, "truncated central directory entry");
    }
    std::span<const std::byte> name, extra;
    if (!r.ReadBytes(name_len, &name) || !r.ReadBytes(extra_len, &extra) || !r.Skip(comment_len)) {
      return bad(at, "central directory entry runs past the directory");
    }
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    if ((flags & 1) != 0) return bad(at, absl::StrCat("entry '", e.name, "' is encrypted"));
    e.method = method;
    e.crc32 = crc;
    e.compressed_size = csize32;
    e.uncompressed_size = usize32;
    e.local_header_offset = offset32;
    // ZIP64 extended information: only the fields saturated in the header are present,
    // in this fixed order.
    ByteReader x(extra);
    while (x.remaining() >= 4) {
      uint16_t id = 0, len = 0;
      x.Read(&id);
      x.Read(&len);
      std::span<const std::byte> body;
      if (!x.ReadBytes(len, &body)) return bad(at, "extra field runs past its entry");
      if (id != 1) continue;
      ByteReader z(body);
      if (usize32 == 0xffffffff && !z.Read(&e.uncompressed_size)) {
        return bad(at, "short ZIP64 extra field");
      }
      if (csize32 == 0xffffffff && !z.Read(&e.compressed_size)) {
        return bad(at, "short ZIP64 extra field");
      }
      if (offset32 == 0xffffffff && !z.Read(&e.local_header_offset)) {
        return bad(at, "short ZIP64 extra field");
      }
    }
    HTSR_RETURN_IF_ERROR(ResolveDataOffset(&e));
    entries_.push_back(std::move(e));
  }
  HTSR_RETURN_IF_ERROR(CheckUniqueNames());
  return CheckNoOverlap(cd_offset, cd_size);
}

absl::Status ZipArchive::CheckUniqueNames() const {
  // The zip format allows two entries of one name; readers disagree on which one counts
  // (Python's zipfile and so np.load take the last, miniz and unzip the first), so a file
  // crafted that way shows each tool different weights. Refused rather than guessed.
  std::unordered_map<std::string_view, const ZipEntry*> seen;
  seen.reserve(entries_.size());
  for (const ZipEntry& e : entries_) {
    auto [it, inserted] = seen.emplace(e.name, &e);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_.name, ": zip: two entries are named '", e.name, "' (local headers at bytes ",
          it->second->local_header_offset, " and ", e.local_header_offset,
          "); tools disagree on which one counts, so the archive is refused"));
    }
  }
  return absl::OkStatus();
}

absl::Status ZipArchive::CheckNoOverlap(uint64_t cd_offset, uint64_t cd_size) const {
  // An overlap bomb (Fifield, "A better zip bomb", 2019) points many central directory
  // entries at one stretch of compressed data, so a 67 KB .npz inflates to gigabytes as
  // a thousand "members". Each entry owns [local header, end of its data); in a zip
  // written by any archiver these regions are disjoint and lie before the central
  // directory, so an overlap is refused (as Info-ZIP's unzip does). Disjoint regions also
  // bound the total: no entry inflates beyond kMaxDeflateRatio times its own compressed
  // bytes (checked in Inflate), so the whole archive cannot inflate beyond
  // kMaxDeflateRatio times the file; the declared sizes are held to that here, before any
  // member is read.
  struct Region {
    uint64_t begin, end;
    const ZipEntry* entry;  // nullptr: the central directory
  };
  std::vector<Region> regions;
  regions.reserve(entries_.size() + 1);
  for (const ZipEntry& e : entries_) {
    regions.push_back({e.local_header_offset, e.data_offset + e.compressed_size, &e});
  }
  regions.push_back({cd_offset, cd_offset + cd_size, nullptr});
  std::sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  auto describe = [](const Region& r) {
    return r.entry == nullptr
               ? absl::StrCat("the central directory (bytes ", r.begin, " to ", r.end, ")")
               : absl::StrCat("entry '", r.entry->name, "' (bytes ", r.begin, " to ", r.end, ")");
  };
  for (size_t i = 1; i < regions.size(); ++i) {
    // An empty central directory of an empty archive holds nothing to overlap.
    if (regions[i].begin < regions[i - 1].end && regions[i].begin != regions[i].end) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_.name, ": zip: ", describe(regions[i]), " overlaps ", describe(regions[i - 1]),
          "; overlapping entries (a zip bomb's trick) are refused"));
    }
  }
  uint64_t total = 0;
  for (const ZipEntry& e : entries_) {
    const std::optional<uint64_t> sum = CheckedAdd(total, e.uncompressed_size);
    total = sum ? *sum : UINT64_MAX;
  }
  const std::optional<uint64_t> cap =
      CheckedMul(file_.bytes.size() + uint64_t{1024} * entries_.size(), kMaxDeflateRatio);
  if (cap && total > *cap) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_.name, ": zip: entries declare ", total, " uncompressed bytes in all, beyond ",
        kMaxDeflateRatio, " times the file's ", file_.bytes.size(), " bytes (deflate's limit)"));
  }
  return absl::OkStatus();
}

absl::Status ZipArchive::ResolveDataOffset(ZipEntry* e) const {
  const auto data = file_.bytes;
  const uint64_t lh = e->local_header_offset;
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_.name, ": zip entry '", e->name, "': ", what, " (local header at byte ", lh, ")"));
  };
  if (lh > data.size() || data.size() - lh < kLocalHeaderSize ||
      LoadLE<uint32_t>(data, static_cast<size_t>(lh)) != kLocalHeaderSig) {
    return bad("bad local header");
  }
  const uint64_t name_len = LoadLE<uint16_t>(data, static_cast<size_t>(lh) + 26);
  const uint64_t extra_len = LoadLE<uint16_t>(data, static_cast<size_t>(lh) + 28);
  const uint64_t start = lh + kLocalHeaderSize + name_len + extra_len;  // < 2^64: lh <= size
  if (start > data.size() || e->compressed_size > data.size() - start) {
    return absl::OutOfRangeError(
        absl::StrCat(file_.name, ": zip entry '", e->name, "': ", e->compressed_size,
                     " bytes of data from byte ", start, " run past the end of the file (",
                     data.size(), " bytes)"));
  }
  if (e->method == 0 && e->compressed_size != e->uncompressed_size) {
    return bad(absl::StrCat("stored entry declares ", e->compressed_size, " compressed but ",
                            e->uncompressed_size, " uncompressed bytes"));
  }
  if (e->method != 0 && e->method != 8) {
    return bad(absl::StrCat("unsupported compression method ", e->method));
  }
  e->data_offset = start;
  return absl::OkStatus();
}

absl::StatusOr<ZipBytes> ZipArchive::Read(const ZipEntry& e) const {
  if (e.method == 0) {
    const auto bytes = file_.bytes.subspan(static_cast<size_t>(e.data_offset),
                                           static_cast<size_t>(e.compressed_size));
    return ZipBytes{bytes, ReleasingOwner(file_, bytes)};
  }
  return Inflate(e, 0, /*whole=*/true);
}

absl::StatusOr<ZipBytes> ZipArchive::ReadPrefix(const ZipEntry& e, size_t max_bytes) const {
  if (e.method == 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(e.compressed_size, max_bytes));
    return ZipBytes{file_.bytes.subspan(static_cast<size_t>(e.data_offset), n), file_.owner};
  }
  return Inflate(e, static_cast<size_t>(std::min<uint64_t>(e.uncompressed_size, max_bytes)),
                 /*whole=*/false);
}

absl::StatusOr<ZipBytes> ZipArchive::Inflate(const ZipEntry& e, size_t out_size, bool whole) const {
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(file_.name, ": zip entry '", e.name,
                                                   "' (data at byte ", e.data_offset, "): ", what));
  };
  if (whole) {
    const std::optional<uint64_t> cap = CheckedMul(e.compressed_size, kMaxDeflateRatio);
    if (cap && e.uncompressed_size > *cap + 1024) {
      return bad(absl::StrCat("declares ", e.uncompressed_size, " bytes from ", e.compressed_size,
                              " compressed bytes, beyond deflate's ratio"));
    }
    if (e.uncompressed_size > static_cast<uint64_t>(SIZE_MAX / 2)) {
      return bad("declared size too large");
    }
    out_size = static_cast<size_t>(e.uncompressed_size);
  }
  auto buffer = std::make_shared<std::vector<std::byte>>(out_size);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return bad("zlib init failed");
  const std::byte* in = file_.bytes.data() + e.data_offset;
  uint64_t in_left = e.compressed_size;
  // zlib counts in 32-bit uInt; feed and drain in chunks.
  constexpr uint64_t kChunk = 1u << 30;
  auto refill = [&] {
    if (zs.avail_in == 0 && in_left > 0) {
      const uint64_t n = std::min(in_left, kChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in));
      zs.avail_in = static_cast<uInt>(n);
      in += n;
      in_left -= n;
    }
  };
  size_t produced = 0;
  int rc = Z_OK;
  while (produced < out_size) {
    refill();
    zs.next_out = reinterpret_cast<Bytef*>(buffer->data() + produced);
    zs.avail_out = static_cast<uInt>(std::min<uint64_t>(out_size - produced, kChunk));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += before - zs.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) break;  // input ran out
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  bool ended = rc == Z_STREAM_END;
  if (whole && !ended && (rc == Z_OK || rc == Z_BUF_ERROR) && produced == out_size) {
    // The output is full: one more byte of room tells whether the stream ends here.
    std::byte probe;
    refill();
    zs.next_out = reinterpret_cast<Bytef*>(&probe);
    zs.avail_out = 1;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (zs.avail_out == 0) {
      inflateEnd(&zs);
      return bad(absl::StrCat("inflates to more than the declared ", out_size, " bytes"));
    }
    ended = rc == Z_STREAM_END;
  }
  inflateEnd(&zs);
  if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    return bad(absl::StrCat("corrupt deflate stream (zlib error ", rc, ")"));
  }
  if (produced != out_size) {
    return bad(absl::StrCat("inflates to ", produced, " bytes, not the declared ", out_size));
  }
  if (whole) {
    if (!ended) return bad("deflate stream does not end where declared");
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t done = 0;
    while (done < out_size) {
      const size_t n = std::min<size_t>(out_size - done, kChunk);
      crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer->data() + done), static_cast<uInt>(n));
      done += n;
    }
    if (static_cast<uint32_t>(crc) != e.crc32) return bad("CRC-32 mismatch");
  }
  std::span<const std::byte> view(buffer->data(), buffer->size());
  return ZipBytes{view, std::move(buffer)};
}

}  // namespace htsr::readers
