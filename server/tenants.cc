#include "server/tenants.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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

TenantRegistry::TenantRegistry(uint32_t default_max_calls, uint64_t default_queue_bytes)
    : default_max_calls_(default_max_calls), default_queue_bytes_(default_queue_bytes) {
  anonymous_ = std::make_shared<Tenant>();
  anonymous_->name = "default";
  anonymous_->max_calls = default_max_calls;
  anonymous_->queue_bytes = default_queue_bytes;
  all_.push_back(anonymous_);
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
      t = std::make_shared<Tenant>();
      t->name = e.name;
      all_.push_back(t);
    }
    t->max_calls = e.max_calls != 0 ? e.max_calls : default_max_calls_;
    t->queue_bytes = e.queue_bytes != 0 ? e.queue_bytes : default_queue_bytes_;
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
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kPrefix = "Bearer ";
  if (value.substr(0, kPrefix.size()) != kPrefix) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  value.remove_prefix(kPrefix.size());
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
