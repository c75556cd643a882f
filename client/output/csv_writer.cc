#include "output/csv_writer.h"

#include <string>
#include <variant>

#include "htsr/base/text_escape.h"
#include "output/result_columns.h"

namespace htsr::output {
namespace {

std::string CellText(const Cell& c) {
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<double>(c)) return FormatDouble(std::get<double>(c));
  if (std::holds_alternative<std::string>(c)) return CsvTextField(std::get<std::string>(c));
  if (std::holds_alternative<bool>(c)) return std::get<bool>(c) ? "True" : "False";
  return "";
}

}  // namespace

void WriteCsv(const std::vector<model::ModelReport>& models, std::ostream& out) {
  std::vector<LayerResult> all;
  for (const auto& m : models) all.insert(all.end(), m.layers.begin(), m.layers.end());
  const auto cols = ColumnsFor(all);
  const bool multi = models.size() > 1;
  if (multi) out << "model,";
  for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << cols[i]->name;
  out << "\n";
  for (const auto& m : models) {
    for (const auto& row : m.layers) {
      if (multi) out << CsvTextField(m.path) << ",";
      for (size_t i = 0; i < cols.size(); ++i) out << (i ? "," : "") << CellText(cols[i]->get(row));
      out << "\n";
    }
  }
}

}  // namespace htsr::output
