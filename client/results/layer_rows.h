// Per-layer rows of result tables (htsr's CSV/JSON, weightwatcher's CSVs of any version)
// back into LayerResult, so that reports and diagnostics work the same on files as on
// models analysed here. Column names are those of output/result_columns.h (the reference
// tool's), plus weightwatcher 0.2.x spellings.
#ifndef HTSR_CLIENT_RESULTS_LAYER_ROWS_H_
#define HTSR_CLIENT_RESULTS_LAYER_ROWS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "htsr/layer.h"
#include "model/model_record.h"
#include "model/model_report.h"

namespace htsr::results {

// One row: (column name, cell text). Unknown columns are ignored; a known numeric column
// with text that is not a number is an error naming the column.
absl::StatusOr<LayerResult> LayerFromCells(
    const std::vector<std::pair<absl::string_view, absl::string_view>>& cells);

// The model-level metrics of a record from its summary (our names, plus the reference's
// get_summary() spellings lognorm, logspectralnorm, logpnorm as aliases).
void AddSummaryMetrics(const ModelSummary& summary, model::ModelRecord& record);

}  // namespace htsr::results

#endif  // HTSR_CLIENT_RESULTS_LAYER_ROWS_H_
