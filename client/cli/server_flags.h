// The --server family of options (analyze, scan, check; declared in cli/option_table.cc)
// mapped onto the remote pool options.
#ifndef HTSR_CLIENT_CLI_SERVER_FLAGS_H_
#define HTSR_CLIENT_CLI_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "analysis/remote_pool.h"
#include "htsr/base/arg_parser.h"

namespace htsr::cli {

// Empty `server` when --server was not given (embedded mode).
absl::StatusOr<analysis::RemotePoolOptions> RemotePoolOptionsFromArgs(const ParsedArgs& args);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_SERVER_FLAGS_H_
