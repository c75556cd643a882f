// The --server family of flags shared by `htsr scan` and `htsr check`.
#ifndef HTSR_CLIENT_CLI_SERVER_FLAGS_H_
#define HTSR_CLIENT_CLI_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "analysis/remote_pool.h"
#include "cli/arg_parser.h"

namespace htsr::cli {

void AddRemoteFlags(ArgParser& parser);
// Empty `server` when --server was not given (embedded mode).
absl::StatusOr<analysis::RemotePoolOptions> RemotePoolOptionsFromArgs(const ParsedArgs& args);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_SERVER_FLAGS_H_
