// Tenants: named bearer tokens, each with its own limits, from a token file that SIGHUP
// reloads. One line per tenant:
//
//   # name   token              [max-calls [queue-bytes]]
//   alice    s3cr3t-a            4
//   bob      s3cr3t-b            -          512M
//
// ("-" or a missing column: --tenant-max-calls / --tenant-queue-bytes). A file whose only
// line is a bare token (the earlier format) is one tenant named "default". Without a token
// file every call belongs to the tenant "default" with the default limits.
#ifndef HTSR_SERVER_TENANTS_H_
#define HTSR_SERVER_TENANTS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/server_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace htsr::server {

struct TenantEntry {
  std::string name;
  std::string token;
  uint32_t max_calls = 0;    // 0 = the default
  uint64_t queue_bytes = 0;  // 0 = the default
};

// Parses a token file's text (format above). Errors name the line, never the token.
absl::StatusOr<std::vector<TenantEntry>> ParseTenantFile(const std::string& text);

// One tenant's live state; kept across reloads while its name stays in the file.
struct Tenant {
  std::string name;
  std::atomic<uint32_t> max_calls{0};
  std::atomic<uint64_t> queue_bytes{0};  // advertised limit (see server/README.md)
  std::atomic<uint32_t> active_calls{0};
};

class TenantRegistry {
 public:
  // Limits for tenants whose line leaves them out. max_calls 0 = no per-tenant limit.
  TenantRegistry(uint32_t default_max_calls, uint64_t default_queue_bytes);

  // Replaces the tenants with those of `path` (tenants that stay keep their in-flight
  // count; calls in flight of a removed tenant finish). On error nothing changes.
  absl::Status LoadFile(const std::string& path);
  // One tenant "default" with `token` (ServerConfig::auth_token, for in-process servers).
  void SetSingleToken(const std::string& token);

  bool auth_required() const;
  // The caller's tenant from its `authorization: Bearer <token>` metadata (every token
  // compared in constant time), or UNAUTHENTICATED. Without tokens: "default".
  absl::StatusOr<std::shared_ptr<Tenant>> Authenticate(
      const grpc::ServerContextBase& context) const;

  // Admission: takes one of the tenant's call slots, or RESOURCE_EXHAUSTED naming the
  // tenant and its limit. Release gives it back (the call's end).
  static absl::Status Admit(Tenant& tenant);
  static void Release(Tenant& tenant) { tenant.active_calls.fetch_sub(1); }

  // (tenant, in-flight calls), for the metrics.
  std::vector<std::pair<std::string, double>> ActiveCalls() const;

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<Tenant> tenant;
  };
  void Install(const std::vector<TenantEntry>& entries);

  const uint32_t default_max_calls_;
  const uint64_t default_queue_bytes_;
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Tenant> anonymous_ ABSL_GUARDED_BY(mu_);  // when there are no tokens
  // Every tenant seen since start (metrics keep a removed tenant's series at 0 in flight).
  std::vector<std::shared_ptr<Tenant>> all_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_TENANTS_H_
