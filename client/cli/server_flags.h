// The --server family of flags shared by `htsr scan` and `htsr check`.
#ifndef HTSR_CLIENT_SCAN_SERVER_FLAGS_H_
#define HTSR_CLIENT_SCAN_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "cli/arg_parser.h"
#include "scan/remote_pool.h"

namespace htsr::scan {

void AddRemoteFlags(cli::ArgParser& parser);
// Empty `server` when --server was not given (embedded mode).
absl::StatusOr<RemotePoolOptions> RemotePoolOptionsFromArgs(const cli::ParsedArgs& args);

}  // namespace htsr::scan

#endif  // HTSR_CLIENT_SCAN_SERVER_FLAGS_H_
