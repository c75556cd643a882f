// Which remote failures are the server's (retry elsewhere) and which the checkpoint's.
#include "analysis/remote_pool.h"

namespace htsr::analysis {

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:        // server gone or unreachable
    case absl::StatusCode::kAborted:            // stream broken mid-call
    case absl::StatusCode::kDeadlineExceeded:   // a stuck or overloaded server
    case absl::StatusCode::kResourceExhausted:  // queue full: another server may have room
    case absl::StatusCode::kCancelled:          // server shutting down
    case absl::StatusCode::kUnknown:            // transport errors without a code
    case absl::StatusCode::kInternal:           // e.g. RST_STREAM from a dying server
      return true;
    default:
      return false;  // invalid argument, not found, permission, unauthenticated, ...
  }
}

}  // namespace htsr::analysis
