// Content hash of a checkpoint: what the scan store keys "already done" on. A file hashes
// its bytes; a directory (sharded Hugging Face checkpoint) hashes every regular file below
// it with its relative path, in sorted order, so renaming or editing any shard changes it.
#ifndef HTSR_CLIENT_SCAN_CONTENT_HASH_H_
#define HTSR_CLIENT_SCAN_CONTENT_HASH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace htsr::scan {

struct ContentHash {
  std::string sha256;  // lower-case hex; "sha256:" is not prefixed
  uint64_t bytes = 0;  // bytes read
  // Device, inode, size and modification time (ns) of every file hashed, as seen before
  // each was read: equal stamps and hashes from two calls mean the same files, untouched.
  std::string stamp;
};

// Errors name the path (missing, unreadable, not a file or directory, or a file that
// changed while it was being read: its size or modification time moved, or fewer or more
// bytes were read than it had).
absl::StatusOr<ContentHash> HashCheckpoint(const std::string& path);

// OK when `path` still hashes to `before` with the same stamp: the bytes analysed since
// `before` was taken were the bytes hashed. Otherwise kAborted "<path>: changed while being
// analysed (...)". Reads the checkpoint once more.
absl::Status CheckUnchanged(const std::string& path, const ContentHash& before);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_CONTENT_HASH_H_
