// One structured (JSON) log line per call on stderr: who, what model, how much, how long,
// how it ended. Never includes tokens or tensor bytes.
#ifndef HTSR_SERVER_CALL_LOG_H_
#define HTSR_SERVER_CALL_LOG_H_

#include <cstdint>
#include <string>

namespace htsr::server {

struct CallRecord {
  uint64_t call_id = 0;
  std::string method;  // "Analyze", "GetServerInfo"
  std::string peer;
  std::string model;
  std::string tenant;   // server/tenants.h ("default" without a token file)
  int64_t layers = 0;   // rows sent back
  int64_t tensors = 0;  // tensors received
  uint64_t bytes = 0;   // tensor bytes received
  double seconds = 0;
  // From the first tensor chunk to the last tensor byte (waits for the memory budget
  // included): close to `seconds`, the call was bound by moving bytes, not by solving.
  double receive_seconds = 0;
  std::string code;     // grpc status code name, e.g. "OK"
  std::string message;  // status message (empty on OK)
};

std::string FormatCallRecord(const CallRecord& record);
void LogCall(const CallRecord& record);

const char* GrpcCodeName(int code);

}  // namespace htsr::server

#endif  // HTSR_SERVER_CALL_LOG_H_
