#include "server/tenants.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "htsr/status_macros.h"
#include "server/auth.h"
#include "server/size_flag.h"

namespace htsr::server {

absl::StatusOr<std::vector<TenantEntry>> ParseTenantFile(const std::string& text) {
  std::vector<TenantEntry> out;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string line(absl::StripAsciiWhitespace(lines[i]));
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string where = absl::StrCat("token file line ", i + 1);
    if (f.size() == 1) {
      // The earlier format: the file's only line is the token.
      out.push_back(TenantEntry{"default", f[0]});
      continue;
    }
    if (f.size() > 4) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": want 'name token [max-calls [queue-bytes]]'"));
    }
    TenantEntry e;
    e.name = f[0];
    e.token = f[1];
    for (char c : e.name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": tenant names are letters, digits, '-', '_', '.'"));
      }
    }
    if (f.size() > 2 && f[2] != "-") {
      if (!absl::SimpleAtoi(f[2], &e.max_calls) || e.max_calls == 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": max-calls must be >= 1 or '-'"));
      }
    }
    if (f.size() > 3 && f[3] != "-") {
      absl::StatusOr<uint64_t> b = ParseByteSize(f[3]);
      if (!b.ok() || *b == 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": bad queue-bytes"));
      }
      e.queue_bytes = *b;
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) return absl::InvalidArgumentError("token file has no token");
  for (size_t i = 0; i < out.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (out[i].name == out[j].name) {
        return absl::InvalidArgumentError(absl::StrCat("token file: tenant '", out[i].name,
                                                       "' appears twice (a bare token line "
                                                       "is only allowed alone)"));
      }
      if (ConstantTimeEquals(out[i].token, out[j].token)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "token file: tenants '", out[j].name, "' and '", out[i].name, "' have the same token"));
      }
    }
  }
  return out;
}

bool TenantBudget::ReserveOrWait(uint64_t bytes, uint64_t waiter_id,
                                 std::function<void()> on_granted) {
  // This level first (FIFO among the tenant's calls); once granted here, the parent.
  auto next = [this, bytes, waiter_id, on_granted] {
    if (ReserveInParent(bytes, waiter_id, on_granted)) on_granted();
  };
  if (!MemoryBudget::ReserveOrWait(bytes, waiter_id, next)) return false;
  return ReserveInParent(bytes, waiter_id, std::move(on_granted));
}

bool TenantBudget::ReserveInParent(uint64_t bytes, uint64_t waiter_id,
                                   std::function<void()> on_granted) {
  {
    absl::MutexLock lock(&wait_mu_);
    in_parent_[waiter_id] = bytes;
  }
  const bool now = parent_->ReserveOrWait(bytes, waiter_id, [this, waiter_id, on_granted] {
    {
      absl::MutexLock lock(&wait_mu_);
      in_parent_.erase(waiter_id);
    }
    on_granted();
  });
  if (now) {
    absl::MutexLock lock(&wait_mu_);
    in_parent_.erase(waiter_id);
  }
  return now;
}

void TenantBudget::Release(uint64_t bytes) {
  parent_->Release(bytes);
  MemoryBudget::Release(bytes);  // grants this level's waiters, which go on to the parent
}

bool TenantBudget::CancelWait(uint64_t waiter_id) {
  if (MemoryBudget::CancelWait(waiter_id)) return true;  // was waiting for the tenant's share
  uint64_t held = 0;
  {
    absl::MutexLock lock(&wait_mu_);
    auto it = in_parent_.find(waiter_id);
    if (it == in_parent_.end()) return false;  // granted everywhere: the caller owns it
    held = it->second;
  }
  if (!parent_->CancelWait(waiter_id)) return false;  // granted meanwhile: callback runs
  {
    absl::MutexLock lock(&wait_mu_);
    in_parent_.erase(waiter_id);
  }
  MemoryBudget::Release(held);  // the share this level had granted
  return true;
}

TenantRegistry::TenantRegistry(uint32_t default_max_calls, uint64_t default_queue_bytes,
                               MemoryBudget* parent, uint64_t min_queue_bytes)
    : default_max_calls_(default_max_calls),
      default_queue_bytes_(default_queue_bytes),
      parent_(parent),
      min_queue_bytes_(min_queue_bytes) {
  anonymous_ = NewTenant("default", default_queue_bytes);
  anonymous_->max_calls = default_max_calls;
  all_.push_back(anonymous_);
}

std::shared_ptr<Tenant> TenantRegistry::NewTenant(const std::string& name,
                                                  uint64_t queue_bytes) const {
  auto t = std::make_shared<Tenant>();
  t->name = name;
  t->queue_bytes = std::max(queue_bytes, min_queue_bytes_);
  if (parent_ != nullptr) t->budget = std::make_unique<TenantBudget>(t->queue_bytes, parent_);
  return t;
}

absl::Status TenantRegistry::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open token file ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  absl::StatusOr<std::vector<TenantEntry>> entries = ParseTenantFile(ss.str());
  if (!entries.ok()) {
    return absl::Status(entries.status().code(),
                        absl::StrCat(path, ": ", entries.status().message()));
  }
  Install(*entries);
  return absl::OkStatus();
}

void TenantRegistry::SetSingleToken(const std::string& token) {
  Install({TenantEntry{"default", token}});
}

void TenantRegistry::Install(const std::vector<TenantEntry>& entries) {
  absl::MutexLock lock(&mu_);
  std::vector<Entry> next;
  for (const TenantEntry& e : entries) {
    std::shared_ptr<Tenant> t;
    for (const std::shared_ptr<Tenant>& old : all_) {
      if (old->name == e.name) t = old;
    }
    if (t == nullptr) {
      t = NewTenant(e.name, e.queue_bytes != 0 ? e.queue_bytes : default_queue_bytes_);
      all_.push_back(t);
    }
    t->max_calls = e.max_calls != 0 ? e.max_calls : default_max_calls_;
    next.push_back(Entry{e.token, std::move(t)});
  }
  entries_ = std::move(next);
}

bool TenantRegistry::auth_required() const {
  absl::MutexLock lock(&mu_);
  return !entries_.empty();
}

absl::StatusOr<std::shared_ptr<Tenant>> TenantRegistry::Authenticate(
    const grpc::ServerContextBase& context) const {
  absl::MutexLock lock(&mu_);
  if (entries_.empty()) return anonymous_;
  HTSR_ASSIGN_OR_RETURN(const std::string_view value, BearerToken(context));
  // Every token is compared (no early exit), so timing does not tell which one is close.
  std::shared_ptr<Tenant> found;
  for (const Entry& e : entries_) {
    if (ConstantTimeEquals(value, e.token)) found = e.tenant;
  }
  if (found == nullptr) return absl::UnauthenticatedError("invalid bearer token");
  return found;
}

absl::Status TenantRegistry::Admit(Tenant& tenant) {
  uint32_t active = tenant.active_calls.load();
  do {
    const uint32_t limit = tenant.max_calls.load();
    if (limit != 0 && active >= limit) {
      return absl::ResourceExhaustedError(absl::StrCat("tenant '", tenant.name, "' busy: ", active,
                                                       " calls in progress (limit ", limit,
                                                       "); retry later"));
    }
  } while (!tenant.active_calls.compare_exchange_weak(active, active + 1));
  return absl::OkStatus();
}

std::vector<std::pair<std::string, double>> TenantRegistry::QueueBytesInUse() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, double>> out;
  for (const std::shared_ptr<Tenant>& t : all_) {
    if (t == anonymous_ && !entries_.empty()) continue;
    out.emplace_back(t->name, t->budget ? static_cast<double>(t->budget->used()) : 0.0);
  }
  return out;
}

std::vector<std::pair<std::string, double>> TenantRegistry::QueueBytesLimit() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, double>> out;
  for (const std::shared_ptr<Tenant>& t : all_) {
    if (t == anonymous_ && !entries_.empty()) continue;
    out.emplace_back(t->name, static_cast<double>(t->queue_bytes));
  }
  return out;
}

std::vector<std::pair<std::string, double>> TenantRegistry::ActiveCalls() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, double>> out;
  for (const std::shared_ptr<Tenant>& t : all_) {
    if (t == anonymous_ && !entries_.empty()) continue;  // no call can be anonymous then
    out.emplace_back(t->name, static_cast<double>(t->active_calls.load()));
  }
  return out;
}

}  // namespace htsr::server
