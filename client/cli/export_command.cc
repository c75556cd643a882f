// htsr export --db FILE : a scan database as CSV or JSON.
#include <iostream>

#include "cli/command.h"
#include "htsr/base/arg_parser.h"
#include "scan/db_export.h"
#include "scan/scan_store.h"

namespace htsr::cli {
int RunExport(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& err = inv.err;
  if (format == "json" && args.Has("table")) {
    err << "htsr export: --table is for csv (json holds every table)\n";
    return kExitUsage;
  }
  auto store = scan::ScanStore::OpenReadOnly(args.GetOr("db", "scan.sqlite"));
  if (!store.ok()) {
    err << "htsr export: " << store.status().message() << "\n";
    return kExitUsage;
  }
  return inv.WriteOutput([&](std::ostream& sink) {
    return format == "json" ? scan::ExportJson(**store, sink)
                            : scan::ExportCsv(**store, args.GetOr("table", "checkpoints"), sink);
  });
}

}  // namespace htsr::cli
