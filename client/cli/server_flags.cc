#include "cli/server_flags.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"

namespace htsr::cli {

absl::StatusOr<analysis::RemotePoolOptions> RemotePoolOptionsFromArgs(const ParsedArgs& args) {
  analysis::RemotePoolOptions o;
  o.server = args.GetOr("server", "");
  o.tls_ca_file = args.GetOr("tls-ca", "");
  o.tls_cert_file = args.GetOr("tls-cert", "");
  o.tls_key_file = args.GetOr("tls-key", "");
  o.tls_server_name = args.GetOr("tls-server-name", "");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (auto f = args.Get("token-file")) {
    std::ifstream in(*f);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read --token-file ", *f));
    std::string line;
    std::getline(in, line);
    o.token = std::string(absl::StripAsciiWhitespace(line));
    if (o.token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--token-file ", *f, " is empty"));
    }
  }
  if (auto d = args.Get("deadline")) {
    if (!absl::SimpleAtod(*d, &o.deadline_seconds) || !(o.deadline_seconds > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--deadline expects seconds > 0, got '", *d, "'"));
    }
  }
  HTSR_ASSIGN_OR_RETURN(int64_t retries, args.GetInt("retries", 3, 0, 100));
  o.max_attempts = static_cast<int>(retries) + 1;
  // At most 16: one model must not take a shared pool's whole --max-concurrent-calls.
  HTSR_ASSIGN_OR_RETURN(int64_t streams, args.GetInt("streams", 1, 1, 16));
  o.streams = static_cast<int>(streams);
  if (o.server.empty()) {
    for (const char* f : {"tls-ca", "tls-cert", "tls-key", "tls-server-name", "token-file",
                          "deadline", "retries", "streams"}) {
      if (args.Has(f)) {
        return absl::InvalidArgumentError(absl::StrCat("--", f, " needs --server"));
      }
    }
  }
  return o;
}

}  // namespace htsr::cli
