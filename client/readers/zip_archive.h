// Read-only zip archives (PyTorch checkpoints, .npz): the central directory including
// ZIP64, stored and deflate entries. Every offset and size is checked against the file;
// stored entries are spans into the mapping (no copy), deflate entries are inflated into
// a buffer of exactly the declared size and CRC-checked. Entries whose regions overlap
// (overlap zip bombs) and entries sharing a name are refused at Open.
#ifndef HTSR_CLIENT_READERS_ZIP_ARCHIVE_H_
#define HTSR_CLIENT_READERS_ZIP_ARCHIVE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "readers/mapped_file.h"

namespace htsr::readers {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflate
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;  // first byte of the (compressed) data, validated
};

// Bytes of one entry and what keeps them alive.
struct ZipBytes {
  std::span<const std::byte> bytes;
  std::shared_ptr<const void> owner;
};

class ZipArchive {
 public:
  static absl::StatusOr<ZipArchive> Open(FileBytes file);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const std::string& name() const { return file_.name; }
  // First entry with exactly this name, or nullptr.
  const ZipEntry* Find(absl::string_view name) const;
  // The entry's uncompressed bytes.
  absl::StatusOr<ZipBytes> Read(const ZipEntry& entry) const;
  // At most `max_bytes` leading uncompressed bytes (headers of big members).
  absl::StatusOr<ZipBytes> ReadPrefix(const ZipEntry& entry, size_t max_bytes) const;

 private:
  explicit ZipArchive(FileBytes file) : file_(std::move(file)) {}
  absl::Status ParseCentralDirectory();
  absl::Status ResolveDataOffset(ZipEntry* e) const;
  absl::Status CheckNoOverlap(uint64_t cd_offset, uint64_t cd_size) const;
  absl::Status CheckUniqueNames() const;
  absl::StatusOr<ZipBytes> Inflate(const ZipEntry& e, size_t out_size, bool whole) const;

  FileBytes file_;
  std::vector<ZipEntry> entries_;
};

// True when `bytes` start like a zip archive (local header or empty-archive EOCD).
bool LooksLikeZip(std::span<const std::byte> bytes);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_ZIP_ARCHIVE_H_
