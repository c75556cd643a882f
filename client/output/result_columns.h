// The per-layer columns, defined once for every writer (CSV, JSON, table, remote tests).
// Names equal the reference tool's CSV names (docs/spec.md §4) so users can diff the two.
#ifndef HTSR_CLIENT_OUTPUT_RESULT_COLUMNS_H_
#define HTSR_CLIENT_OUTPUT_RESULT_COLUMNS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "htsr/layer.h"

namespace htsr::output {

// Empty (monostate) where a value does not apply: metrics of a skipped layer, optional
// analyses that did not run.
using Cell = std::variant<std::monostate, int64_t, double, std::string, bool>;

struct Column {
  std::string_view name;
  Cell (*get)(const LayerResult&);
  bool optional;  // shown only when some row has a value (mp_fit, randomize, ...)
};

// All known columns: layer_id and name first, then the rest in the reference's order
// (pandas sorts them as plain strings: upper case first).
const std::vector<Column>& AllColumns();

// The columns to print for `rows`: every base column, plus optional ones that some row has.
std::vector<const Column*> ColumnsFor(const std::vector<LayerResult>& rows);

// Shortest text that reads back to the same double ("%.17g"), "inf"/"-inf"/"nan" as pandas.
std::string FormatDouble(double v);

}  // namespace htsr::output

#endif  // HTSR_CLIENT_OUTPUT_RESULT_COLUMNS_H_
