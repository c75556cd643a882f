// Tenants: named bearer tokens, each with its own limits, from a token file that SIGHUP
// reloads. One line per tenant:
//
//   # name   token              [max-calls [queue-bytes]]
//   alice    s3cr3t-a            4
//   bob      s3cr3t-b            -          512M
//
// ("-" or a missing column: --tenant-max-calls / --tenant-queue-bytes; queue bytes are a
// tenant's share of the server's budget, TenantBudget below). A file whose only
// line is a bare token (the earlier format) is one tenant named "default". Without a token
// file every call belongs to the tenant "default" with the default limits.
#ifndef HTSR_SERVER_TENANTS_H_
#define HTSR_SERVER_TENANTS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/server_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/memory_budget.h"

namespace htsr::server {

struct TenantEntry {
  std::string name;
  std::string token;
  uint32_t max_calls = 0;    // 0 = the default
  uint64_t queue_bytes = 0;  // 0 = the default
};

// Parses a token file's text (format above). Errors name the line, never the token.
absl::StatusOr<std::vector<TenantEntry>> ParseTenantFile(const std::string& text);

// A tenant's share of the server's budget: bytes are reserved here (FIFO among the
// tenant's calls, up to its queue bytes) and then in the server's budget, and released
// from both. A tenant that fills its share waits on its own queue, not in front of others.
class TenantBudget final : public MemoryBudget {
 public:
  TenantBudget(uint64_t capacity, MemoryBudget* parent) : MemoryBudget(capacity), parent_(parent) {}
  bool ReserveOrWait(uint64_t bytes, uint64_t waiter_id, std::function<void()> on_granted) override;
  void Release(uint64_t bytes) override;
  bool CancelWait(uint64_t waiter_id) override;

 private:
  // The tenant's share is held: reserve in the parent (true = granted now).
  bool ReserveInParent(uint64_t bytes, uint64_t waiter_id, std::function<void()> on_granted);
  // Grants this level's waiters that fit now (after a release or a cancel here).
  void GrantWaiters();

  MemoryBudget* const parent_;
  absl::Mutex wait_mu_;
  std::map<uint64_t, uint64_t> in_parent_ ABSL_GUARDED_BY(wait_mu_);  // id -> bytes held here
};

// One tenant's live state; kept across reloads while its name stays in the file.
struct Tenant {
  std::string name;
  std::atomic<uint32_t> max_calls{0};
  uint64_t queue_bytes = 0;              // set when the tenant is first seen (restart to change)
  std::unique_ptr<TenantBudget> budget;  // null without a server budget (option checks)
  std::atomic<uint32_t> active_calls{0};
};

class TenantRegistry {
 public:
  // Limits for tenants whose line leaves them out. max_calls 0 = no per-tenant limit.
  // Each tenant's budget sits in front of `parent` (null: no budgets), with at least
  // `min_queue_bytes` (the largest layer, which must always fit).
  TenantRegistry(uint32_t default_max_calls, uint64_t default_queue_bytes,
                 MemoryBudget* parent = nullptr, uint64_t min_queue_bytes = 0);

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

  // (tenant, value) for the metrics: in-flight calls, queue bytes in use and their limit.
  std::vector<std::pair<std::string, double>> ActiveCalls() const;
  std::vector<std::pair<std::string, double>> QueueBytesInUse() const;
  std::vector<std::pair<std::string, double>> QueueBytesLimit() const;

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<Tenant> tenant;
  };
  void Install(const std::vector<TenantEntry>& entries);

  const uint32_t default_max_calls_;
  const uint64_t default_queue_bytes_;
  MemoryBudget* const parent_;
  const uint64_t min_queue_bytes_;
  std::shared_ptr<Tenant> NewTenant(const std::string& name, uint64_t queue_bytes) const;
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Tenant> anonymous_ ABSL_GUARDED_BY(mu_);  // when there are no tokens
  // Every tenant seen since start (metrics keep a removed tenant's series at 0 in flight).
  std::vector<std::shared_ptr<Tenant>> all_ ABSL_GUARDED_BY(mu_);
};

}  // namespace htsr::server

#endif  // HTSR_SERVER_TENANTS_H_
