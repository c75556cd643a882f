// htsr export --db FILE : a scan database as CSV or JSON.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "htsr/base/arg_parser.h"
#include "scan/db_export.h"
#include "scan/scan_store.h"

namespace htsr::cli {
int RunExport(const Invocation& inv) {
  const ParsedArgs& args = inv.args;
  const std::string& format = inv.format;
  std::ostream& out = inv.out;
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
  std::ofstream file;
  std::ostream* sink = &out;
  if (auto path = args.Get("out")) {
    file.open(*path, std::ios::out | std::ios::trunc);
    if (!file) {
      err << "htsr export: cannot write --out " << *path << "\n";
      return kExitUsage;
    }
    sink = &file;
  }
  const absl::Status s = format == "json"
                             ? scan::ExportJson(**store, *sink)
                             : scan::ExportCsv(**store, args.GetOr("table", "checkpoints"), *sink);
  if (!s.ok()) {
    err << "htsr export: " << s.message() << "\n";
    return kExitUsage;
  }
  sink->flush();
  if (!*sink) {
    err << "htsr export: writing the output failed\n";
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace htsr::cli
