// Byte sizes on the command line: "4096", "64K", "512M", "2G" (binary units).
#ifndef HTSR_SERVER_SIZE_FLAG_H_
#define HTSR_SERVER_SIZE_FLAG_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace htsr::server {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);

}  // namespace htsr::server

#endif  // HTSR_SERVER_SIZE_FLAG_H_
