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
};

// Errors name the path (missing, unreadable, not a file or directory).
absl::StatusOr<ContentHash> HashCheckpoint(const std::string& path);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_CONTENT_HASH_H_
