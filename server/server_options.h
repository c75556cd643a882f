// htsr-server's options, declared once in a table and parsed by the project's one
// command-line parser (htsr/base/arg_parser.h, the same as htsr's commands), mapped onto
// ServerConfig. Usage errors name the option.
#ifndef HTSR_SERVER_SERVER_OPTIONS_H_
#define HTSR_SERVER_SERVER_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "htsr/base/arg_parser.h"
#include "server/htsr_server.h"

namespace htsr::server {

ArgParser ServerArgParser();

struct ServerStartup {
  ServerConfig config;
  std::string port_file;           // --port-file: where to write the bound port ("" none)
  std::vector<std::string> notes;  // accepted-but-ignored options, said once at start
};

absl::StatusOr<ServerStartup> ServerStartupFromArgs(const ParsedArgs& args);

}  // namespace htsr::server

#endif  // HTSR_SERVER_SERVER_OPTIONS_H_
