#include "output/json_writer.h"

#include <cmath>
#include <cstdio>
#include <variant>

#include "absl/strings/str_cat.h"
#include "output/result_columns.h"
#include "output/summary_fields.h"

namespace htsr::output {

std::string JsonNumber(double v) { return std::isfinite(v) ? FormatDouble(v) : "null"; }

namespace {

std::string CellJson(const Cell& c) {
  if (std::holds_alternative<int64_t>(c)) return std::to_string(std::get<int64_t>(c));
  if (std::holds_alternative<double>(c)) return JsonNumber(std::get<double>(c));
  if (std::holds_alternative<std::string>(c)) return JsonString(std::get<std::string>(c));
  if (std::holds_alternative<bool>(c)) return std::get<bool>(c) ? "true" : "false";
  return "null";
}

}  // namespace

void WriteJson(const std::vector<model::ModelReport>& models, std::ostream& out) {
  std::vector<LayerResult> all;
  for (const auto& m : models) all.insert(all.end(), m.layers.begin(), m.layers.end());
  const auto cols = ColumnsFor(all);
  out << "{\"htsr_version\": " << JsonString(HTSR_VERSION_STRING) << ", \"models\": [";
  for (size_t mi = 0; mi < models.size(); ++mi) {
    const model::ModelReport& m = models[mi];
    out << (mi ? ",\n" : "\n") << "  {\"path\": " << JsonString(m.path)
        << ", \"format\": " << JsonString(m.format) << ", \"backend\": " << JsonString(m.backend)
        << ", \"bytes\": " << m.bytes << ", \"seconds\": " << JsonNumber(m.seconds)
        << ",\n   \"summary\": {\"status\": " << JsonString(SummaryStatus(m.summary));
    if (!HasSummaryValues(m.summary)) {
      out << ", \"reason\": " << JsonString(EmptySummaryReason(m.summary));
    }
    const auto fields = SummaryFields(m.summary);
    for (size_t i = 0; i < fields.size(); ++i) {
      out << ", " << JsonString(fields[i].name) << ": "
          << (fields[i].is_count ? absl::StrCat(static_cast<int64_t>(fields[i].value))
                                 : JsonNumber(fields[i].value));
    }
    out << "},\n   \"layers\": [";
    for (size_t li = 0; li < m.layers.size(); ++li) {
      out << (li ? ",\n    {" : "\n    {");
      for (size_t ci = 0; ci < cols.size(); ++ci) {
        out << (ci ? ", " : "") << JsonString(cols[ci]->name) << ": "
            << CellJson(cols[ci]->get(m.layers[li]));
      }
      out << "}";
    }
    out << "]}";
  }
  out << "\n]}\n";
}

}  // namespace htsr::output
