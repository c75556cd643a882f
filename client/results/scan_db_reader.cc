#include "results/scan_db_reader.h"

#include <cstring>
#include <fstream>
#include <map>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"
#include "htsr/summary.h"
#include "output/result_columns.h"
#include "results/csv_table.h"
#include "results/layer_rows.h"
#include "results/results_file.h"
#include "scan/scan_store.h"

namespace htsr::results {
namespace {

std::string Text(const scan::DbValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&v)) return output::FormatDouble(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return "";
}

int ColumnIndex(const scan::DbTable& t, const std::string& name) {
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::Status Context(const absl::Status& s, const std::string& path) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

}  // namespace

bool IsSqliteFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[16] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 16 && std::memcmp(magic, "SQLite format 3\0", 16) == 0;
}

absl::StatusOr<std::vector<model::ModelRecord>> ReadScanDatabase(const std::string& path) {
  auto store = scan::ScanStore::OpenReadOnly(path);
  if (!store.ok()) return Context(store.status(), path);
  auto checkpoints =
      (*store)->Query("SELECT * FROM checkpoints WHERE status IN ('ok', 'empty') ORDER BY id");
  if (!checkpoints.ok()) {
    return Context(checkpoints.status(), path);  // not a scan database (no such table)
  }
  const int id_col = ColumnIndex(*checkpoints, "id"), path_col = ColumnIndex(*checkpoints, "path");
  if (id_col < 0 || path_col < 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an htsr scan database"));
  }
  std::vector<model::ModelRecord> out;
  std::map<std::string, size_t> by_id;
  for (const auto& row : checkpoints->rows) {
    model::ModelRecord rec;
    rec.source = path;
    rec.kind = "scan-db";
    rec.report.path = Text(row[path_col]);
    rec.name = ModelNameFromPath(rec.report.path);
    if (int c = ColumnIndex(*checkpoints, "format"); c >= 0) rec.report.format = Text(row[c]);
    if (int c = ColumnIndex(*checkpoints, "backend"); c >= 0) rec.report.backend = Text(row[c]);
    for (const std::string& name : scan::SummaryColumnNames()) {
      const int c = ColumnIndex(*checkpoints, name);
      if (c < 0) continue;
      if (auto v = ParseNumber(Text(row[c]))) rec.SetMetric(name, *v);
    }
    by_id[Text(row[id_col])] = out.size();
    out.push_back(std::move(rec));
  }
  HTSR_ASSIGN_OR_RETURN(scan::DbTable extras,
                        (*store)->Query("SELECT checkpoint_id, key, value FROM checkpoint_extras "
                                        "ORDER BY checkpoint_id, ord"));
  for (const auto& row : extras.rows) {
    auto it = by_id.find(Text(row[0]));
    if (it == by_id.end()) continue;
    model::ModelRecord& rec = out[it->second];
    const std::string key = Text(row[1]), value = Text(row[2]);
    if (key == "model" || key == "name") {
      if (!value.empty()) rec.name = value;
    } else if (key == "series") {
      rec.series = value;
    } else if (auto v = ParseNumber(value)) {
      rec.SetMetric(key, *v);
    }
  }
  HTSR_ASSIGN_OR_RETURN(scan::DbTable layers,
                        (*store)->Query("SELECT * FROM layers ORDER BY checkpoint_id, layer_id"));
  for (const auto& row : layers.rows) {
    auto it = by_id.find(Text(row[0]));
    if (it == by_id.end()) continue;
    std::vector<std::string> texts;
    for (const auto& v : row) texts.push_back(Text(v));
    std::vector<std::pair<absl::string_view, absl::string_view>> cells;
    for (size_t c = 1; c < layers.columns.size() && c < texts.size(); ++c) {
      cells.emplace_back(layers.columns[c], texts[c]);
    }
    auto layer = LayerFromCells(cells);
    if (!layer.ok())
      return Context(layer.status(), absl::StrCat(path, ": layers of checkpoint ", Text(row[0])));
    out[it->second].report.layers.push_back(*std::move(layer));
  }
  for (model::ModelRecord& rec : out) {
    rec.has_layers = !rec.report.layers.empty();
    if (rec.has_layers) rec.report.summary = Summarize(rec.report.layers);
    AddSummaryMetrics(rec.report.summary, rec);
  }
  if (out.empty())
    return absl::InvalidArgumentError(absl::StrCat(path, ": no checkpoint recorded ok"));
  return out;
}

}  // namespace htsr::results
