// htsr: how well is a neural network trained, from its weights alone.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "output/summary_fields.h"

namespace {

constexpr char kUsage[] =
    "usage: htsr COMMAND [options]\n"
    "\n"
    "Heavy-tailed self-regularization (HT-SR) metrics of pretrained networks, from the\n"
    "weights alone: no training or test data (Martin, Peng & Mahoney, Nat. Commun. 2021).\n"
    "\n"
    "commands:\n"
    "  analyze PATH...   per-layer alpha, norms and diagnostics, and the model summary\n"
    "  describe PATH...  the layers analyze would analyse or skip, without computing\n"
    "  scan INPUT...     many checkpoints into a resumable SQLite database (--server: a pool)\n"
    "  check MODEL       exit 1 when a policy (--policy FILE, --max-alpha ...) is violated\n"
    "  export --db FILE  a scan database as CSV or JSON\n"
    "  compare FILE...   accuracy vs model metrics within a series (RMSE, R^2, Kendall tau)\n"
    "  report MODEL|RESULTS...  a self-contained HTML report with charts (--format svg)\n"
    "  version           print the version\n"
    "\n"
    "'htsr COMMAND --help' explains each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? htsr::cli::kExitUsage : htsr::cli::kExitOk;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "analyze") return htsr::cli::RunAnalyze(args, std::cout, std::cerr);
  if (command == "describe") return htsr::cli::RunDescribe(args, std::cout, std::cerr);
  if (command == "scan") return htsr::cli::RunScan(args, std::cout, std::cerr);
  if (command == "check") return htsr::cli::RunCheck(args, std::cout, std::cerr);
  if (command == "export") return htsr::cli::RunExport(args, std::cout, std::cerr);
  if (command == "compare") return htsr::cli::RunCompare(args, std::cout, std::cerr);
  if (command == "report") return htsr::cli::RunReport(args, std::cout, std::cerr);
  if (command == "version" || command == "--version") {
    std::cout << "htsr " << HTSR_VERSION_STRING << "\n";
    return htsr::cli::kExitOk;
  }
  std::cerr << "htsr: unknown command '" << command << "'\n\n" << kUsage;
  return htsr::cli::kExitUsage;
}
