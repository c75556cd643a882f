#include "server/call_log.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "htsr/base/text_escape.h"

namespace htsr::server {

const char* GrpcCodeName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  if (code < 0 || code > 16) return "UNKNOWN";
  return kNames[code];
}

std::string FormatCallRecord(const CallRecord& r) {
  return absl::StrFormat(
      "{\"ts\":\"%s\",\"event\":\"call\",\"call\":%d,\"method\":%s,\"peer\":%s,"
      "\"model\":%s,\"tenant\":%s,\"layers\":%d,\"tensors\":%d,\"bytes\":%d,\"seconds\":%.6f,"
      "\"receive_seconds\":%.6f,\"code\":\"%s\",\"message\":%s}",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()), r.call_id,
      JsonString(r.method), JsonString(r.peer), JsonString(r.model), JsonString(r.tenant), r.layers,
      r.tensors, r.bytes, r.seconds, r.receive_seconds, r.code, JsonString(r.message));
}

void LogCall(const CallRecord& record) {
  const std::string line = FormatCallRecord(record) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace htsr::server
