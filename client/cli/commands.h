// The CLI's subcommands. Each takes the arguments after its name and returns the process
// exit code: 0 ok; 1 some layers failed (listed); 2 usage or unreadable input.
#ifndef HTSR_CLIENT_CLI_COMMANDS_H_
#define HTSR_CLIENT_CLI_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace htsr::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitLayersFailed = 1;
inline constexpr int kExitUsage = 2;

int RunAnalyze(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunDescribe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunScan(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunCheck(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunExport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunCompare(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int RunReport(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace htsr::cli

#endif  // HTSR_CLIENT_CLI_COMMANDS_H_
