#include "server/size_flag.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace htsr::server {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty size");
  int shift = 0;
  switch (text.back()) {
    case 'K':
    case 'k':
      shift = 10;
      break;
    case 'M':
    case 'm':
      shift = 20;
      break;
    case 'G':
    case 'g':
      shift = 30;
      break;
    default:
      break;
  }
  absl::string_view digits = shift ? text.substr(0, text.size() - 1) : text;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value)) {
    return absl::InvalidArgumentError(absl::StrCat("not a size: '", text, "'"));
  }
  if (shift && value > (UINT64_MAX >> shift)) {
    return absl::InvalidArgumentError(absl::StrCat("size overflows: '", text, "'"));
  }
  return value << shift;
}

}  // namespace htsr::server
