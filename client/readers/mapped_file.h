// Read-only bytes of a whole checkpoint file: a memory mapping, or an in-memory buffer
// (fuzzers and tests), behind one type so every reader parses a span and never a path.
#ifndef HTSR_CLIENT_READERS_MAPPED_FILE_H_
#define HTSR_CLIENT_READERS_MAPPED_FILE_H_

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace htsr::readers {

struct MappingWatch;  // mapped_file.cc: the open descriptor and the fault flag of a mapping

// `owner` keeps `bytes` valid; copies share the mapping (munmap runs when the last goes).
struct FileBytes {
  std::string name;  // the path as given, used in every error message
  std::span<const std::byte> bytes;
  std::shared_ptr<const void> owner;
  bool mapped = false;  // bytes are a read-only file mapping (not a heap buffer)
  // Set for a mapping: what CheckFileIntact looks at.
  std::shared_ptr<const MappingWatch> watch;
};

// Maps `path` read-only. Refuses directories, pipes and devices: a mapping needs a regular
// file whose size is known up front.
//
// A file that shrinks while mapped (truncated, or rewritten in place by a download or a
// training job) would kill the process with SIGBUS at the first read past its new end: in
// the engine's conversion to float, in zlib, in a parser, in the gRPC client. Instead a
// process-wide SIGBUS handler, installed with the first mapping, maps a page of zeros over
// the missing page of a mapping made here and marks that mapping broken, so the read
// completes; CheckFileIntact then reports the file, and whoever read from it discards what
// it computed. See mapped_file.cc for why this and not a copy-out guard or pread.
absl::StatusOr<FileBytes> MapFile(const std::string& path);

// OK while every byte read from `file` was the file's own: it has not shrunk below the
// mapped size (a read past the new end of its last page gives zeros without a signal) and
// no read faulted. DataLossError naming the file otherwise. Always OK for buffers. Call it
// after the bytes (or anything computed from them) were used, and before trusting them.
absl::Status CheckFileIntact(const FileBytes& file);

// An owner for `view`, a range of `file`'s bytes. For a mapping, when the last copy goes
// the range's whole pages are dropped from this process (madvise MADV_DONTNEED): they stay
// in the page cache but leave the resident set, so analysing a checkpoint far larger than
// memory keeps RSS near one layer per worker. For a buffer it is `file.owner` itself.
std::shared_ptr<const void> ReleasingOwner(const FileBytes& file, std::span<const std::byte> view);

// Wraps a buffer the caller already holds.
FileBytes BufferBytes(std::string name, std::string data);

}  // namespace htsr::readers

#endif  // HTSR_CLIENT_READERS_MAPPED_FILE_H_
