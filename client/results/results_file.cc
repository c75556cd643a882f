#include "results/results_file.h"

#include <cctype>
#include <filesystem>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"
#include "htsr/summary.h"
#include "readers/json_parser.h"
#include "results/csv_table.h"
#include "results/layer_rows.h"
#include "results/python_dict.h"
#include "results/scan_db_reader.h"
#include "results/text_file.h"

namespace htsr::results {
namespace {

using readers::JsonValue;

absl::Status WithContext(const absl::Status& s, absl::string_view where) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

void FinishLayers(model::ModelRecord& rec) {
  rec.has_layers = true;
  rec.report.summary = Summarize(rec.report.layers);
  AddSummaryMetrics(rec.report.summary, rec);
}

// weightwatcher get_summary() keys: ours are set from the 0.2.x spellings too, so that
// --metrics log_norm works on either.
void AddSummaryAliases(model::ModelRecord& rec) {
  const std::pair<const char*, const char*> aliases[] = {
      {"lognorm", "log_norm"},
      {"logspectralnorm", "log_spectral_norm"},
      {"logpnorm", "log_alpha_norm"},
      {"log_norm", "lognorm"},
      {"log_spectral_norm", "logspectralnorm"},
      {"log_alpha_norm", "logpnorm"},
  };
  for (const auto& [from, to] : aliases) {
    if (auto v = rec.Metric(from)) rec.SetMetric(to, *v);
  }
}

absl::StatusOr<std::vector<model::ModelRecord>> FromPythonDict(absl::string_view text,
                                                               const std::string& path) {
  HTSR_ASSIGN_OR_RETURN(auto entries, ParsePythonDictNumbers(text, path));
  model::ModelRecord rec;
  rec.name = ModelNameFromPath(path);
  rec.source = path;
  rec.kind = "ww-summary";
  rec.report.path = path;
  for (auto& [k, v] : entries) rec.SetMetric(k, v);
  AddSummaryAliases(rec);
  if (rec.metrics.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the dict has no numeric entries"));
  }
  return std::vector<model::ModelRecord>{std::move(rec)};
}

std::string JsonCellText(const JsonValue& v) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      return "";
    case JsonValue::Kind::kBool:
      return v.boolean ? "True" : "False";
    case JsonValue::Kind::kNumber:
    case JsonValue::Kind::kString:
      return v.text;
    default:
      return "?";  // arrays/objects: no column holds one; ParseNumber refuses "?"
  }
}

absl::StatusOr<std::vector<model::ModelRecord>> FromJson(absl::string_view text,
                                                         const std::string& path) {
  auto parsed = readers::ParseJson(text);
  if (!parsed.ok()) return WithContext(parsed.status(), path);
  const JsonValue& root = *parsed;
  if (!root.IsObject())
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  std::vector<model::ModelRecord> out;
  const JsonValue* models = root.Find("models");
  if (models == nullptr) {
    // A summary saved as JSON: {"alpha": 2.5, ...}.
    model::ModelRecord rec;
    rec.name = ModelNameFromPath(path);
    rec.source = rec.report.path = path;
    rec.kind = "ww-summary";
    for (const auto& [k, v] : root.object) {
      if (v.kind == JsonValue::Kind::kNumber) {
        if (auto d = ParseNumber(v.text)) rec.SetMetric(k, *d);
      }
    }
    AddSummaryAliases(rec);
    if (rec.metrics.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": JSON with neither \"models\" (htsr analyze) nor numeric summary keys"));
    }
    out.push_back(std::move(rec));
    return out;
  }
  if (!models->IsArray()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": \"models\" is not an array"));
  }
  for (size_t mi = 0; mi < models->array.size(); ++mi) {
    const JsonValue& m = models->array[mi];
    const std::string where = absl::StrCat(path, ": models[", mi, "]");
    if (!m.IsObject()) return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    model::ModelRecord rec;
    rec.source = path;
    rec.kind = "htsr-json";
    const JsonValue* p = m.Find("path");
    rec.report.path = p != nullptr && p->IsString() ? p->text : path;
    rec.name = ModelNameFromPath(rec.report.path);
    if (const JsonValue* f = m.Find("format"); f != nullptr && f->IsString())
      rec.report.format = f->text;
    if (const JsonValue* b = m.Find("backend"); b != nullptr && b->IsString())
      rec.report.backend = b->text;
    if (const JsonValue* s = m.Find("summary"); s != nullptr && s->IsObject()) {
      for (const auto& [k, v] : s->object) {
        if (v.kind == JsonValue::Kind::kNumber) {
          if (auto d = ParseNumber(v.text)) rec.SetMetric(k, *d);
        }
      }
    }
    const JsonValue* layers = m.Find("layers");
    if (layers == nullptr || !layers->IsArray()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": no \"layers\" array"));
    }
    for (size_t li = 0; li < layers->array.size(); ++li) {
      const JsonValue& l = layers->array[li];
      if (!l.IsObject()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": layers[", li, "] is not an object"));
      }
      std::vector<std::string> texts;
      texts.reserve(l.object.size());
      for (const auto& kv : l.object) texts.push_back(JsonCellText(kv.value));
      std::vector<std::pair<absl::string_view, absl::string_view>> cells;
      for (size_t i = 0; i < l.object.size(); ++i) cells.emplace_back(l.object[i].key, texts[i]);
      auto layer = LayerFromCells(cells);
      if (!layer.ok())
        return WithContext(layer.status(), absl::StrCat(where, ": layers[", li, "]"));
      rec.report.layers.push_back(*std::move(layer));
    }
    FinishLayers(rec);
    out.push_back(std::move(rec));
  }
  return out;
}

absl::StatusOr<std::vector<model::ModelRecord>> FromLayerCsv(const CsvTable& t,
                                                             const std::string& path) {
  const int model_col = t.Column("model");
  const int level_col = t.Column("level");
  std::vector<model::ModelRecord> out;
  std::map<std::string, size_t> index;  // model column value -> record
  for (size_t ri = 0; ri < t.rows.size(); ++ri) {
    const auto& row = t.rows[ri];
    // weightwatcher 0.2.x writes each conv slice (LEVEL.SLICE) and per-layer means
    // (LEVEL.LAYER); its get_summary() averages the slices, so the slices are the rows.
    if (level_col >= 0 && row[level_col] == "LEVEL.LAYER") continue;
    const std::string key = model_col >= 0 ? row[model_col] : path;
    auto it = index.find(key);
    if (it == index.end()) {
      model::ModelRecord rec;
      rec.source = path;
      rec.report.path = key;
      rec.name = ModelNameFromPath(key);
      rec.kind = t.Column("level") >= 0 || t.Column("status") < 0 ? "ww-csv" : "htsr-csv";
      it = index.emplace(key, out.size()).first;
      out.push_back(std::move(rec));
    }
    std::vector<std::pair<absl::string_view, absl::string_view>> cells;
    for (size_t c = 0; c < t.header.size(); ++c) cells.emplace_back(t.header[c], row[c]);
    auto layer = LayerFromCells(cells);
    if (!layer.ok()) {
      return WithContext(layer.status(), absl::StrCat(path, ": line ", t.row_lines[ri]));
    }
    out[it->second].report.layers.push_back(*std::move(layer));
  }
  for (model::ModelRecord& rec : out) FinishLayers(rec);
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no layer rows"));
  return out;
}

absl::StatusOr<std::vector<model::ModelRecord>> FromSummaryCsv(const CsvTable& t,
                                                               const std::string& path) {
  int name_col = t.Column("model");
  if (name_col < 0) name_col = t.Column("name");
  const int series_col = t.Column("series");
  std::vector<model::ModelRecord> out;
  for (size_t ri = 0; ri < t.rows.size(); ++ri) {
    const auto& row = t.rows[ri];
    model::ModelRecord rec;
    rec.source = path;
    rec.kind = "summary-csv";
    rec.name = row[name_col];
    rec.report.path = rec.name;
    if (series_col >= 0) rec.series = row[series_col];
    for (size_t c = 0; c < t.header.size(); ++c) {
      if (static_cast<int>(c) == name_col || static_cast<int>(c) == series_col) continue;
      if (auto v = ParseNumber(row[c])) rec.SetMetric(t.header[c], *v);
    }
    AddSummaryAliases(rec);
    out.push_back(std::move(rec));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no model rows"));
  return out;
}

}  // namespace

std::string ModelNameFromPath(absl::string_view path) {
  std::filesystem::path p{std::string(path)};
  std::string stem = p.stem().string();
  if (stem.empty()) stem = p.parent_path().filename().string();  // a directory "model/"
  return stem.empty() ? std::string(path) : stem;
}

absl::StatusOr<std::vector<model::ModelRecord>> ParseResults(absl::string_view text,
                                                             const std::string& path) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && text[i] == '{') {
    size_t j = i + 1;
    while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    // Python's repr() quotes keys with ', JSON with ".
    if (j < text.size() && text[j] == '\'') return FromPythonDict(text, path);
    return FromJson(text, path);
  }
  HTSR_ASSIGN_OR_RETURN(CsvTable table, ParseCsv(text, path));
  if (table.Column("layer_id") >= 0 && table.Column("alpha") >= 0) return FromLayerCsv(table, path);
  if (table.Column("model") >= 0 || table.Column("name") >= 0) return FromSummaryCsv(table, path);
  return absl::InvalidArgumentError(absl::StrCat(
      path,
      ": not a result file htsr knows: expected htsr analyze JSON/CSV, a weightwatcher "
      "per-layer CSV (layer_id, alpha, ...), a summary dict, or a CSV with a 'model' column"));
}

absl::StatusOr<std::vector<model::ModelRecord>> ReadResultsFile(const std::string& path) {
  // A scan database can be far larger than a text input: it is queried, not read whole.
  if (IsSqliteFile(path)) return ReadScanDatabase(path);
  HTSR_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseResults(text, path);
}

}  // namespace htsr::results
