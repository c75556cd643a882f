// The self-contained HTML report: model summaries and diagnostics in plain words, the
// correlation-flow and depth charts (overlaid for several models), ESDs of chosen layers,
// sortable per-layer tables, and, with accuracies, the trend table with scatter plots.
// Everything is inline (SVG, CSS, a few lines of JS for sorting): no network access.
#ifndef HTSR_CLIENT_REPORT_HTML_REPORT_H_
#define HTSR_CLIENT_REPORT_HTML_REPORT_H_

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "model/diagnostics.h"
#include "model/model_record.h"
#include "report/svg_plot.h"
#include "trends/trend_analysis.h"

namespace htsr::report {

struct ReportOptions {
  std::string title = "htsr report";
  size_t esd_count = 4;                 // worst layers per model when esd_layers is empty
  std::vector<std::string> esd_layers;  // layer ids or names to draw the ESD of
  model::DiagnosticThresholds thresholds;
};

struct ReportData {
  std::vector<model::ModelRecord> models;
  std::vector<trends::SeriesTrend> trends;  // empty without accuracies
  std::string target_name = "accuracy";
  bool target_is_error = false;
};

struct ReportFigure {
  std::string section;  // "depth", "hist", "esd" (ESDs and fit stability), "trend"
  PlotSpec spec;
  std::string model;             // the model an ESD belongs to (series for trend plots)
  std::optional<PlotGrid> grid;  // small multiples: drawn instead of spec

  const std::string& Id() const { return grid ? grid->id : spec.id; }
  std::string Svg() const { return grid ? RenderGridSvg(*grid) : RenderSvg(spec); }
};

// Every chart of the report, in page order (also what `--format svg` writes).
std::vector<ReportFigure> BuildFigures(const ReportData& data, const ReportOptions& options);

void WriteHtmlReport(const ReportData& data, const ReportOptions& options, std::ostream& out);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_HTML_REPORT_H_
