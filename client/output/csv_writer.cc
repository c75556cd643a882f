#include "output/csv_writer.h"

#include <string>
#include <variant>

#include "output/result_columns.h"

namespace htsr::output {
namespace {

// RFC 4180 quoting: only where needed, so plain names stay diffable with pandas output.
std::string Quote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string CellText(const Cell& c) {
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<double>(c)) return FormatDouble(std::get<double>(c));
  if (std::holds_alternative<std::string>(c)) return Quote(std::get<std::string>(c));
  if (std::holds_alternative<bool>(c)) return std::get<bool>(c) ? "True" : "False";
  return "";
}

}  // namespace

void WriteCsv(const std::vector<ModelReport>& models, std::ostream& out) {
  std::vector<LayerResult> all;
  for (const auto& m : models) all.insert(all.end(), m.layers.begin(), m.layers.end());
  const auto cols = ColumnsFor(all);
  const bool multi = models.size() > 1;
  if (multi) out << "model,";
  for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << cols[i]->name;
  out << "\n";
  for (const auto& m : models) {
    for (const auto& row : m.layers) {
      if (multi) out << Quote(m.path) << ",";
      for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << CellText(cols[i]->get(row));
      out << "\n";
    }
  }
}

}  // namespace htsr::output
