// Read-only bytes of a whole checkpoint file: a memory mapping, or an in-memory buffer
// (fuzzers and tests), behind one type so every reader parses a span and never a path.
#ifndef HTSR_CLIENT_READERS_MAPPED_FILE_H_
#define HTSR_CLIENT_READERS_MAPPED_FILE_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace htsr::readers {

// `owner` keeps `bytes` valid; copies share the mapping (munmap runs when the last goes).
struct FileBytes {
  std::string name;  // the path as given, used in every error message
  std::span<const std::byte> bytes;
  std::shared_ptr<const void> owner;
  bool mapped = false;  // bytes are a read-only file mapping (not a heap buffer)
};

// Maps `path` read-only. Refuses directories, pipes and devices: a mapping needs a regular
// file whose size is known up front.
absl::StatusOr<FileBytes> MapFile(const std::string& path);

// An owner for `view`, a range of `file`'s bytes. For a mapping, when the last copy goes
// the range's whole pages are dropped from this process (madvise MADV_DONTNEED): they stay
// in the page cache but leave the resident set, so analysing a checkpoint far larger than
// memory keeps RSS near one layer per worker. For a buffer it is `file.owner` itself.
std::shared_ptr<const void> ReleasingOwner(const FileBytes& file, std::span<const std::byte> view);

// Wraps a buffer the caller already holds.
FileBytes BufferBytes(std::string name, std::string data);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_MAPPED_FILE_H_
