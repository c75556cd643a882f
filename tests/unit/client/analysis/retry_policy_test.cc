#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "analysis/remote_pool.h"

namespace htsr::scan {
namespace {

TEST(RetryPolicyTest, ServerFailuresRetryCheckpointFailuresDoNot) {
  // What a killed or overloaded server yields: another server may succeed.
  EXPECT_TRUE(analysis::IsRetryable(absl::UnavailableError("connection reset")));
  EXPECT_TRUE(analysis::IsRetryable(absl::AbortedError("stream broken")));
  EXPECT_TRUE(analysis::IsRetryable(absl::DeadlineExceededError("deadline")));
  EXPECT_TRUE(analysis::IsRetryable(absl::ResourceExhaustedError("queue full")));
  EXPECT_TRUE(analysis::IsRetryable(absl::CancelledError("server shutting down")));
  // The checkpoint's or the caller's own problem: the same on every server.
  EXPECT_FALSE(analysis::IsRetryable(absl::InvalidArgumentError("bad tensor")));
  EXPECT_FALSE(analysis::IsRetryable(absl::NotFoundError("no such file")));
  EXPECT_FALSE(analysis::IsRetryable(absl::PermissionDeniedError("token")));
  EXPECT_FALSE(analysis::IsRetryable(absl::UnauthenticatedError("token")));
  EXPECT_FALSE(analysis::IsRetryable(absl::FailedPreconditionError("version")));
}

}  // namespace
}  // namespace htsr::scan
