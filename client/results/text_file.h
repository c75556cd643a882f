// Reads a whole small text input (CSV, JSON, summary dicts) with a size bound: these files
// come from users and other tools, so a huge or unreadable file is an error, not a crash.
#ifndef HTSR_CLIENT_RESULTS_TEXT_FILE_H_
#define HTSR_CLIENT_RESULTS_TEXT_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace htsr::results {

inline constexpr size_t kMaxTextFileBytes = size_t{256} << 20;

absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         size_t max_bytes = kMaxTextFileBytes);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_TEXT_FILE_H_
