#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "scan/remote_pool.h"

namespace htsr::scan {
namespace {

TEST(RetryPolicyTest, ServerFailuresRetryCheckpointFailuresDoNot) {
  // What a killed or overloaded server yields: another server may succeed.
  EXPECT_TRUE(IsRetryable(absl::UnavailableError("connection reset")));
  EXPECT_TRUE(IsRetryable(absl::AbortedError("stream broken")));
  EXPECT_TRUE(IsRetryable(absl::DeadlineExceededError("deadline")));
  EXPECT_TRUE(IsRetryable(absl::ResourceExhaustedError("queue full")));
  EXPECT_TRUE(IsRetryable(absl::CancelledError("server shutting down")));
  // The checkpoint's or the caller's own problem: the same on every server.
  EXPECT_FALSE(IsRetryable(absl::InvalidArgumentError("bad tensor")));
  EXPECT_FALSE(IsRetryable(absl::NotFoundError("no such file")));
  EXPECT_FALSE(IsRetryable(absl::PermissionDeniedError("token")));
  EXPECT_FALSE(IsRetryable(absl::UnauthenticatedError("token")));
  EXPECT_FALSE(IsRetryable(absl::FailedPreconditionError("version")));
}

}  // namespace
}  // namespace htsr::scan
