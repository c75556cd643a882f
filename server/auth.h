// Bearer-token check for AnalysisService calls. The token is compared in constant time
// and never logged or echoed in an error.
#ifndef HTSR_SERVER_AUTH_H_
#define HTSR_SERVER_AUTH_H_

#include <string_view>

#include <grpcpp/server_context.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace htsr::server {

// Compares without an early exit, so timing reveals nothing about where they differ (only
// whether the lengths differ, which the token format does not keep secret anyway).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// The token of the call's "authorization: Bearer <token>" metadata (a view into the
// context's metadata); UNAUTHENTICATED when it is missing or not a bearer token.
absl::StatusOr<std::string_view> BearerToken(const grpc::ServerContextBase& context);

}  // namespace htsr::server

#endif  // HTSR_SERVER_AUTH_H_
