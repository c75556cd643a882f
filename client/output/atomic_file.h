// Output files that appear whole or not at all: written to a temporary file beside the
// target, flushed, then renamed over it. A failed command leaves no file, or the previous
// one untouched, never a truncated or header-only one.
#ifndef HTSR_CLIENT_OUTPUT_ATOMIC_FILE_H_
#define HTSR_CLIENT_OUTPUT_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace htsr::output {

// Replaces `path` with `content` atomically (rename(2) within one directory). Errors name
// the path; the temporary file is removed on every error.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_ATOMIC_FILE_H_
