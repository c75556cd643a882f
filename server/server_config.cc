#include "server/server_config.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace htsr::server {

bool IsLoopbackAddress(const std::string& listen) {
  absl::string_view a = listen;
  if (absl::StartsWith(a, "unix:") || absl::StartsWith(a, "unix-abstract:")) return true;
  absl::string_view host;
  if (absl::StartsWith(a, "[")) {
    const size_t close = a.find(']');
    if (close == absl::string_view::npos) return false;
    host = a.substr(1, close - 1);
  } else {
    const size_t colon = a.rfind(':');
    host = colon == absl::string_view::npos ? a : a.substr(0, colon);
  }
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, as a literal dotted quad (not a name that merely starts with "127.").
  const std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view p : parts) {
    int v = 0;
    if (p.empty() || p.size() > 3 || !absl::SimpleAtoi(p, &v) || v < 0 || v > 255) return false;
  }
  return true;
}

absl::Status ValidateConfig(const ServerConfig& c) {
  if (c.queue_bytes == 0) return absl::InvalidArgumentError("--queue-bytes must be > 0");
  if (c.max_layer_bytes == 0 || c.max_layer_bytes > c.queue_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max-layer-bytes (", c.max_layer_bytes, ") must be > 0 and at most --queue-bytes (",
        c.queue_bytes, "): a layer larger than the budget could never be admitted"));
  }
  if (c.max_chunk_bytes == 0 || c.max_chunk_bytes + 1024 > c.max_message_bytes) {
    return absl::InvalidArgumentError(
        "--max-message-bytes must exceed --max-chunk-bytes by at least 1 KiB (chunk framing)");
  }
  if (c.max_concurrent_calls == 0) {
    return absl::InvalidArgumentError("--max-concurrent-calls must be > 0");
  }
  if (c.max_tensors_per_call == 0 || c.metadata_bytes == 0) {
    return absl::InvalidArgumentError("--max-tensors-per-call and --metadata-bytes must be > 0");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert/--tls-key");
  }
  if (c.tls_cert_file.empty() && !c.insecure_listen && !IsLoopbackAddress(c.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to listen on ", c.listen,
        " without TLS: use --tls-cert/--tls-key, a loopback address, or --insecure-listen"));
  }
  return absl::OkStatus();
}

}  // namespace htsr::server
