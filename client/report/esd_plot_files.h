// Plots as files (analyze --plot DIR): each analysed layer's ESD as a standalone SVG, drawn by
// the report's own code (report_plots.h EsdPlot: log-log histogram, the fitted power law and
// xmin), and with --mp-fit a second, linear one with the Marchenko-Pastur bulk.
#ifndef HTSR_CLIENT_REPORT_ESD_PLOT_FILES_H_
#define HTSR_CLIENT_REPORT_ESD_PLOT_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "model/model_report.h"

namespace htsr::report {

// DIR/<model>.layer<id>[.slice<k>].<name>.esd.svg for every row with a spectrum (the engine
// must keep them), plus .esd_linear.svg where the row has an MP fit. DIR is created.
absl::Status WriteEsdPlotFiles(const std::string& dir, const model::ModelReport& report);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_ESD_PLOT_FILES_H_
