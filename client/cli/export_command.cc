// htsr export --db FILE : a scan database as CSV or JSON.
#include <fstream>
#include <iostream>

#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "scan/db_export.h"
#include "scan/scan_store.h"

namespace htsr::cli {
namespace {

ArgParser MakeParser() {
  ArgParser p("export", "--db FILE [--format csv|json] [--table checkpoints|layers]",
              "Writes the tables of an 'htsr scan' database. CSV writes one table: checkpoints\n"
              "(one row each: path, hash, status, error, timings, server, model summary and the\n"
              "manifest's extra columns) or layers (one row per layer, led by the checkpoint\n"
              "path, the reference tool's column names). JSON nests layers in checkpoints.");
  p.AddFlag({"db", "FILE", "the scan database", "scan.sqlite"});
  p.AddFlag({"format", "csv|json", "output format", "csv"});
  p.AddFlag({"table", "checkpoints|layers", "the table CSV writes", "checkpoints"});
  p.AddFlag({"out", "FILE", "write to FILE instead of stdout", ""});
  return p;
}

}  // namespace

int RunExport(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  const ArgParser parser = MakeParser();
  auto args = parser.Parse(argv);
  if (!args.ok()) {
    err << "htsr export: " << args.status().message() << "\n";
    return kExitUsage;
  }
  if (args->Has("help")) {
    out << parser.Help();
    return kExitOk;
  }
  if (!args->positionals().empty()) {
    err << "htsr export: unexpected argument '" << args->positionals()[0] << "'\n";
    return kExitUsage;
  }
  const std::string format = args->GetOr("format", "csv");
  if (format != "csv" && format != "json") {
    err << "htsr export: --format is csv or json, got '" << format << "'\n";
    return kExitUsage;
  }
  if (format == "json" && args->Has("table")) {
    err << "htsr export: --table is for csv (json holds every table)\n";
    return kExitUsage;
  }
  auto store = scan::ScanStore::OpenReadOnly(args->GetOr("db", "scan.sqlite"));
  if (!store.ok()) {
    err << "htsr export: " << store.status().message() << "\n";
    return kExitUsage;
  }
  std::ofstream file;
  std::ostream* sink = &out;
  if (auto path = args->Get("out")) {
    file.open(*path, std::ios::out | std::ios::trunc);
    if (!file) {
      err << "htsr export: cannot write --out " << *path << "\n";
      return kExitUsage;
    }
    sink = &file;
  }
  const absl::Status s = format == "json"
                             ? scan::ExportJson(**store, *sink)
                             : scan::ExportCsv(**store, args->GetOr("table", "checkpoints"), *sink);
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
