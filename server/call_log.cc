#include "server/call_log.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace htsr::server {

std::string JsonEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

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
      "{\"ts\":\"%s\",\"event\":\"call\",\"call\":%d,\"method\":\"%s\",\"peer\":\"%s\","
      "\"model\":\"%s\",\"layers\":%d,\"tensors\":%d,\"bytes\":%d,\"seconds\":%.6f,"
      "\"code\":\"%s\",\"message\":\"%s\"}",
      absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()), r.call_id,
      JsonEscape(r.method), JsonEscape(r.peer), JsonEscape(r.model), r.layers, r.tensors, r.bytes,
      r.seconds, r.code, JsonEscape(r.message));
}

void LogCall(const CallRecord& record) {
  const std::string line = FormatCallRecord(record) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace htsr::server
