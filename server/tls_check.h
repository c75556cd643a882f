// Startup check of --tls-cert/--tls-key: both parse as PEM and the key is the private key
// of the chain's first certificate. Without it, gRPC only fails to bind and the server
// said "cannot listen on ...".
#ifndef HTSR_SERVER_TLS_CHECK_H_
#define HTSR_SERVER_TLS_CHECK_H_

#include <string>

#include "absl/status/status.h"

namespace htsr::server {

// InvalidArgument naming the files when a PEM does not parse or the pair does not match.
absl::Status CheckTlsKeyPair(const std::string& cert_pem, const std::string& key_pem,
                             const std::string& cert_file, const std::string& key_file);

}  // namespace htsr::server

#endif  // HTSR_SERVER_TLS_CHECK_H_
