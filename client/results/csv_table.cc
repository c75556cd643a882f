#include "results/csv_table.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace htsr::results {

int CsvTable::Column(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view source) {
  // A UTF-8 byte order mark (spreadsheet exports) is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  std::vector<std::string> record;
  std::string field;
  int line = 1, record_line = 1;
  bool in_quotes = false, field_quoted = false, any = false;
  auto end_record = [&]() -> absl::Status {
    record.push_back(std::move(field));
    field.clear();
    field_quoted = false;
    // A blank line (one empty unquoted field) separates nothing: skip it.
    const bool blank = record.size() == 1 && record[0].empty();
    if (!blank) {
      if (table.header.empty()) {
        table.header = std::move(record);
      } else if (record.size() != table.header.size()) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": line ", record_line, ": ",
                                                       record.size(), " fields, the header has ",
                                                       table.header.size()));
      } else {
        table.rows.push_back(std::move(record));
        table.row_lines.push_back(record_line);
      }
    }
    record.clear();
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    any = true;
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || field_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": line ", line, ": a quote inside an unquoted field"));
      }
      in_quotes = field_quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_quoted = false;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (auto s = end_record(); !s.ok()) return s;
      ++line;
      record_line = line;
      any = false;
    } else {
      if (field_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": line ", line, ": text after a closing quote"));
      }
      field += c;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": line ", record_line, ": a quoted field is never closed"));
  }
  if (any || !record.empty()) {
    if (auto s = end_record(); !s.ok()) return s;
  }
  if (table.header.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": empty CSV"));
  return table;
}

std::optional<double> ParseNumber(absl::string_view cell) {
  const std::string s(absl::StripAsciiWhitespace(cell));
  if (s.empty()) return std::nullopt;
  const std::string lower = absl::AsciiStrToLower(s);
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (lower == "inf" || lower == "+inf" || lower == "infinity") {
    return std::numeric_limits<double>::infinity();
  }
  if (lower == "-inf" || lower == "-infinity") return -std::numeric_limits<double>::infinity();
  // Python's and pandas' booleans, as in weightwatcher's checkTF column.
  if (lower == "true") return 1.0;
  if (lower == "false") return 0.0;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  // strtod also accepts "nan(...)", hex and "infinity" spellings; those were handled or
  // are rare enough. Overflow gives +-HUGE_VAL, which is what the text means.
  return v;
}

}  // namespace htsr::results
