#include "analysis/pool_target.h"

#include <arpa/inet.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "htsr/status_macros.h"

namespace htsr::analysis {
namespace {

enum class Family { kV4, kV6, kName };

// Splits "host:port" / "[v6]:port"; checks the port.
absl::Status SplitHostPort(const std::string& addr, std::string* host, Family* family) {
  std::string port;
  if (!addr.empty() && addr[0] == '[') {
    const size_t close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", addr, "' (want [v6]:port)"));
    }
    *host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    const size_t colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad address '", addr, "' (want host:port)"));
    }
    *host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  int p = 0;
  if (!absl::SimpleAtoi(port, &p) || p <= 0 || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in '", addr, "'"));
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, host->c_str(), buf) == 1) {
    *family = Family::kV4;
  } else if (inet_pton(AF_INET6, host->c_str(), buf) == 1) {
    *family = Family::kV6;
  } else {
    *family = Family::kName;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> PoolTarget(const std::string& server_in) {
  const std::string server(absl::StripAsciiWhitespace(server_in));
  if (server.empty()) return absl::InvalidArgumentError("--server: empty address");
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "xds:"}) {
    if (absl::StartsWith(server, scheme)) return server;
  }
  std::vector<std::string> parts = absl::StrSplit(server, ',', absl::SkipWhitespace());
  for (std::string& p : parts) p = std::string(absl::StripAsciiWhitespace(p));
  if (parts.size() == 1) {
    std::string host;
    Family f;
    if (absl::Status s = SplitHostPort(parts[0], &host, &f); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--server: ", s.message()));
    }
    return absl::StrCat("dns:///", parts[0]);
  }
  Family first = Family::kName;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string host;
    Family f;
    if (absl::Status s = SplitHostPort(parts[i], &host, &f); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--server: ", s.message()));
    }
    if (f == Family::kName) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--server: '", parts[i],
          "' is a name; a comma list takes IP addresses (for names, "
          "give one DNS name that resolves to every server, e.g. a headless Service)"));
    }
    if (i == 0) first = f;
    if (f != first) {
      return absl::InvalidArgumentError("--server: a comma list mixes IPv4 and IPv6 addresses");
    }
  }
  return absl::StrCat(first == Family::kV4 ? "ipv4:" : "ipv6:", absl::StrJoin(parts, ","));
}

absl::StatusOr<std::vector<std::string>> PoolMemberTargets(const std::string& server) {
  HTSR_ASSIGN_OR_RETURN(std::string target, PoolTarget(server));
  std::string family;
  if (absl::StartsWith(target, "ipv4:")) family = "ipv4:";
  if (absl::StartsWith(target, "ipv6:")) family = "ipv6:";
  // Only lists PoolTarget built from a comma list; a target given with its scheme stays one.
  if (family.empty() || absl::StartsWith(absl::StripAsciiWhitespace(server), family)) {
    return std::vector<std::string>{target};
  }
  std::vector<std::string> out;
  for (absl::string_view a : absl::StrSplit(target.substr(family.size()), ',')) {
    out.push_back(absl::StrCat(family, a));
  }
  return out;
}

}  // namespace htsr::analysis
