// absl::Status <-> grpc::Status, in one function each (docs/architecture.md rule 4). The canonical
// codes are numerically identical in both libraries; the mapping is still spelled out so a
// mismatch is a compile-time or test failure, not a silent miscode.
#ifndef HTSR_PROTO_CONVERT_GRPC_STATUS_H_
#define HTSR_PROTO_CONVERT_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace htsr {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace htsr

#endif  // HTSR_PROTO_CONVERT_GRPC_STATUS_H_
