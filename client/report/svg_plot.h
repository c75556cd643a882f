// A small SVG chart renderer for reports: scatter and line series on linear or log10 axes,
// horizontal bands and reference lines, a legend and a title. Output is one standalone,
// well-formed <svg> element (valid XML, no scripts, no external references), so the same
// text is inlined in the HTML report and written as a file by `htsr report --format svg`.
#ifndef HTSR_CLIENT_REPORT_SVG_PLOT_H_
#define HTSR_CLIENT_REPORT_SVG_PLOT_H_

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace htsr::report {

enum class Scale { kLinear, kLog10 };

struct PlotPoint {
  double x = 0, y = 0;
  std::string tip;  // hover text (an SVG <title>); empty for none
};

struct PlotSeries {
  std::string label;  // legend entry; empty keeps it out of the legend
  std::string color;  // any SVG colour
  std::vector<PlotPoint> points;
  bool line = false;              // join the points in order
  bool markers = true;            // draw a circle per point
  bool bars = false;              // histogram bars from the x-axis (points are bar centres)
  std::vector<double> bar_edges;  // bars: points.size() + 1 edges
  std::string dash;               // stroke-dasharray for lines, e.g. "6 3"
  double width = 1.8;
  double radius = 3.2;  // markers
};

struct PlotBand {
  double y0 = 0, y1 = 0;  // horizontal band between two y values
  std::string color, label;
};

struct PlotRule {
  bool vertical = false;
  double at = 0;
  std::string color, label;
};

struct PlotSpec {
  std::string id;  // file name stem and element id ("correlation_flow")
  std::string title, x_label, y_label;
  Scale x_scale = Scale::kLinear, y_scale = Scale::kLinear;
  int width = 640, height = 380;
  std::vector<PlotSeries> series;
  std::vector<PlotBand> bands;
  std::vector<PlotRule> rules;
  std::string note;  // one line under the title (e.g. what was left out)
  // Values of y outside [y_view_min, y_view_max] are left off the chart (and counted), so
  // that one absurd layer does not flatten every other point.
  double y_view_min = -std::numeric_limits<double>::infinity();
  double y_view_max = std::numeric_limits<double>::infinity();
  // Fixed axis ranges (data units, padded like fitted ones) instead of the data's: small
  // multiples share them so that panels compare at a glance. NaN = fit the data.
  double x_min = std::numeric_limits<double>::quiet_NaN();
  double x_max = std::numeric_limits<double>::quiet_NaN();
  double y_min = std::numeric_limits<double>::quiet_NaN();
  double y_max = std::numeric_limits<double>::quiet_NaN();
};

// Small multiples: panels side by side in rows of `columns`, under one title, as one
// <svg> (each panel a nested <svg>). Panel ids must be unique within the page.
struct PlotGrid {
  std::string id, title, note;
  std::vector<PlotSpec> panels;
  int columns = 4;
};

// A y view that keeps the bulk of `values` readable: the 5th..95th percentile range
// widened three times its width on each side (the whole range when that covers it).
void SetRobustYView(PlotSpec& spec, std::vector<double> values);

// The chart as an <svg> element. Points that cannot be drawn (non-finite, or <= 0 on a log
// axis) are left out and counted in the subtitle. The legend sits under the plot area,
// outside it, so it never hides a point; the element is taller than spec.height by the
// legend's rows.
std::string RenderSvg(const PlotSpec& spec);

std::string RenderGridSvg(const PlotGrid& grid);

// The height RenderSvg gives `spec` (spec.height plus the legend's rows).
int RenderedHeight(const PlotSpec& spec);

// Text for XML character data and attribute values.
std::string XmlEscape(absl::string_view s);

// Colours that stay distinguishable for many series (Tableau 10).
const std::string& PaletteColor(size_t i);

// "Nice" tick positions covering [lo, hi] (1, 2, 5 times a power of ten), for linear axes.
std::vector<double> LinearTicks(double lo, double hi, int target_count);

}  // namespace htsr::report

#endif  // HTSR_CLIENT_REPORT_SVG_PLOT_H_
