#include "scan/db_export.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "htsr/base/text_escape.h"
#include "htsr/status_macros.h"
#include "output/json_writer.h"
#include "output/result_columns.h"

namespace htsr::scan {
namespace {

// The fixed checkpoint columns exported (the internal id is not).
const std::vector<std::string>& CheckpointMetaColumns() {
  static const std::vector<std::string>* cols = new std::vector<std::string>{
      "path",         "content_hash",    "status",     "error", "options",
      "format",       "backend",         "server",     "bytes", "attempts",
      "hash_seconds", "analyze_seconds", "finished_at"};
  return *cols;
}

std::string CsvText(const DbValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return output::FormatDouble(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return CsvTextField(*s);
  return "";
}

std::string JsonText(const DbValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return output::JsonNumber(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return output::JsonString(*s);
  return "null";
}

std::string QuotedList(const std::vector<std::string>& names, const std::string& prefix) {
  std::vector<std::string> q;
  for (const std::string& n : names) q.push_back(absl::StrCat(prefix, "\"", n, "\""));
  return absl::StrJoin(q, ", ");
}

// checkpoint id -> ordered (key, value) extras; `keys` gets every key in first-seen order.
absl::StatusOr<std::map<int64_t, std::vector<std::pair<std::string, std::string>>>> ReadExtras(
    ScanStore& store, std::vector<std::string>* keys) {
  HTSR_ASSIGN_OR_RETURN(DbTable t, store.Query("SELECT checkpoint_id, key, value FROM "
                                               "checkpoint_extras ORDER BY checkpoint_id, ord"));
  std::map<int64_t, std::vector<std::pair<std::string, std::string>>> out;
  std::set<std::string> seen;
  for (const auto& row : t.rows) {
    const int64_t id = std::get<int64_t>(row[0]);
    const std::string key = std::get<std::string>(row[1]);
    const std::string* value = std::get_if<std::string>(&row[2]);
    out[id].emplace_back(key, value ? *value : "");
    if (keys && seen.insert(key).second) keys->push_back(key);
  }
  return out;
}

}  // namespace

absl::Status ExportCsv(ScanStore& store, const std::string& table, std::ostream& out) {
  if (table == "layers") {
    HTSR_ASSIGN_OR_RETURN(
        DbTable t, store.Query(absl::StrCat("SELECT c.path, ", QuotedList(LayerColumnNames(), "l."),
                                            " FROM layers l JOIN checkpoints c ON "
                                            "c.id = l.checkpoint_id ORDER BY c.path, l.layer_id")));
    std::vector<std::string> header;
    for (const std::string& c : t.columns) header.push_back(CsvTextField(c));
    out << absl::StrJoin(header, ",") << "\n";
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      for (const DbValue& v : row) cells.push_back(CsvText(v));
      out << absl::StrJoin(cells, ",") << "\n";
    }
    return absl::OkStatus();
  }
  if (table != "checkpoints") {
    return absl::InvalidArgumentError(
        absl::StrCat("--table is checkpoints or layers, got '", table, "'"));
  }
  std::vector<std::string> extra_keys;
  HTSR_ASSIGN_OR_RETURN(auto extras, ReadExtras(store, &extra_keys));
  HTSR_ASSIGN_OR_RETURN(
      DbTable t, store.Query(absl::StrCat("SELECT id, ", QuotedList(CheckpointMetaColumns(), ""),
                                          ", ", QuotedList(SummaryColumnNames(), ""),
                                          " FROM checkpoints ORDER BY path")));
  std::vector<std::string> header;
  for (size_t i = 1; i < t.columns.size(); ++i) header.push_back(CsvField(t.columns[i]));
  // Extras whose name collides with a column get an "extra." prefix.
  std::set<std::string> taken(t.columns.begin(), t.columns.end());
  for (const std::string& k : extra_keys) {
    header.push_back(CsvField(taken.count(k) ? absl::StrCat("extra.", k) : k));
  }
  out << absl::StrJoin(header, ",") << "\n";
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    for (size_t i = 1; i < row.size(); ++i) cells.push_back(CsvText(row[i]));
    const auto it = extras.find(std::get<int64_t>(row[0]));
    for (const std::string& k : extra_keys) {
      std::string v;
      if (it != extras.end()) {
        for (const auto& [key, value] : it->second) {
          if (key == k) v = value;
        }
      }
      cells.push_back(CsvField(v));
    }
    out << absl::StrJoin(cells, ",") << "\n";
  }
  return absl::OkStatus();
}

absl::Status ExportJson(ScanStore& store, std::ostream& out) {
  HTSR_ASSIGN_OR_RETURN(auto extras, ReadExtras(store, nullptr));
  const std::vector<std::string>& meta = CheckpointMetaColumns();
  const std::vector<std::string>& summary = SummaryColumnNames();
  HTSR_ASSIGN_OR_RETURN(DbTable t, store.Query(absl::StrCat("SELECT id, ", QuotedList(meta, ""),
                                                            ", ", QuotedList(summary, ""),
                                                            " FROM checkpoints ORDER BY path")));
  HTSR_ASSIGN_OR_RETURN(
      DbTable layers,
      store.Query(absl::StrCat("SELECT checkpoint_id, ", QuotedList(LayerColumnNames(), ""),
                               " FROM layers ORDER BY checkpoint_id, layer_id")));
  std::map<int64_t, std::vector<const std::vector<DbValue>*>> by_checkpoint;
  for (const auto& row : layers.rows) by_checkpoint[std::get<int64_t>(row[0])].push_back(&row);

  out << "{\"checkpoints\": [";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    const int64_t id = std::get<int64_t>(row[0]);
    out << (r ? ",\n  {" : "\n  {");
    for (size_t i = 0; i < meta.size(); ++i) {
      out << (i ? ", " : "") << output::JsonString(meta[i]) << ": " << JsonText(row[1 + i]);
    }
    out << ", \"extra\": {";
    if (auto it = extras.find(id); it != extras.end()) {
      for (size_t i = 0; i < it->second.size(); ++i) {
        out << (i ? ", " : "") << output::JsonString(it->second[i].first) << ": "
            << output::JsonString(it->second[i].second);
      }
    }
    out << "}, \"summary\": ";
    if (std::holds_alternative<std::string>(row[3]) &&
        (std::get<std::string>(row[3]) == "ok" || std::get<std::string>(row[3]) == "empty")) {
      out << "{";
      for (size_t i = 0; i < summary.size(); ++i) {
        out << (i ? ", " : "") << output::JsonString(summary[i]) << ": "
            << JsonText(row[1 + meta.size() + i]);
      }
      out << "}";
    } else {
      out << "null";
    }
    out << ", \"layers\": [";
    if (auto it = by_checkpoint.find(id); it != by_checkpoint.end()) {
      for (size_t k = 0; k < it->second.size(); ++k) {
        const auto& lrow = *it->second[k];
        out << (k ? ",\n    {" : "\n    {");
        bool first = true;
        for (size_t c = 1; c < lrow.size(); ++c) {
          // Optional columns that did not run are left out, as in `analyze --format json`.
          if (std::holds_alternative<std::monostate>(lrow[c])) continue;
          out << (first ? "" : ", ") << output::JsonString(layers.columns[c]) << ": "
              << JsonText(lrow[c]);
          first = false;
        }
        out << "}";
      }
    }
    out << "]}";
  }
  out << "\n]}\n";
  return absl::OkStatus();
}

}  // namespace htsr::scan
