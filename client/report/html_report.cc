#include "report/html_report.h"

#include <cmath>
#include <string_view>
#include <variant>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "output/result_columns.h"
#include "output/summary_fields.h"
#include "report/report_plots.h"
#include "trends/rank.h"

namespace htsr::report {
namespace {

// The per-layer columns a reader scans, by their reference names (output/result_columns.h);
// optional ones appear only when some layer has them.
const char* const kTableColumns[] = {"layer_id",
                                     "name",
                                     "layer_type",
                                     "N",
                                     "M",
                                     "num_evals",
                                     "alpha",
                                     "alpha_weighted",
                                     "log_norm",
                                     "log_spectral_norm",
                                     "log_alpha_norm",
                                     "stable_rank",
                                     "D",
                                     "xmin",
                                     "num_pl_spikes",
                                     "num_spikes",
                                     "mp_softrank",
                                     "num_traps",
                                     "rand_distance",
                                     "status",
                                     "warning",
                                     "reason"};

std::string H(std::string_view s) { return XmlEscape(absl::string_view(s.data(), s.size())); }

std::string Fmt(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  return absl::StrFormat("%.4g", v);
}

std::vector<NamedModel> LayeredModels(const ReportData& d) {
  std::vector<NamedModel> m;
  for (const auto& r : d.models) {
    if (r.has_layers) m.push_back({r.name, &r.report});
  }
  return m;
}

std::vector<const LayerResult*> EsdLayers(const model::ModelRecord& m, const ReportOptions& o) {
  if (o.esd_layers.empty()) return WorstLayers(m.report.layers, o.esd_count);
  std::vector<const LayerResult*> out;
  for (const LayerResult& l : m.report.layers) {
    for (const std::string& want : o.esd_layers) {
      int id = 0;
      const bool by_id = absl::SimpleAtoi(want, &id) && id == l.plan.layer_id;
      // Names as users write them: with or without the ".weight" suffix.
      const bool by_name = want == l.plan.name || want == l.plan.tensor_name ||
                           absl::StrCat(want, ".weight") == l.plan.tensor_name ||
                           absl::StrCat(want, ".weight") == l.plan.name;
      if (by_id || by_name) {
        out.push_back(&l);
        break;
      }
    }
  }
  return out;
}

void WriteCss(std::ostream& out) {
  out << "<style>\n"
         "body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}\n"
         "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid "
         "#ccc;padding-bottom:4px;margin-top:32px}\n"
         "table{border-collapse:collapse;font-size:12px;margin:8px 0}\n"
         "th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}\n"
         "th{background:#f3f3f3;cursor:pointer;position:sticky;top:0}td.t{text-align:left}\n"
         "tr.bad td{background:#fff0f0}tr.warn td{background:#fffbe6}\n"
         ".plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{border:1px solid #eee}\n"
         ".warn-list li{margin:4px 0}.ok{color:#2e7d32}.muted{color:#666}\n"
         "</style>\n";
}

// Click a header to sort by that column (numbers by value, text by text); click again to
// reverse. Cells carry their sort key in data-v.
void WriteScript(std::ostream& out) {
  out << "<script>\n"
         "document.querySelectorAll('table.sortable').forEach(function(t){\n"
         "  t.querySelectorAll('th').forEach(function(th,i){\n"
         "    th.addEventListener('click',function(){\n"
         "      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
         "      var "
         "asc=th.getAttribute('data-dir')!=='asc';th.setAttribute('data-dir',asc?'asc':'desc');\n"
         "      rows.sort(function(a,b){\n"
         "        var x=a.cells[i].getAttribute('data-v'),y=b.cells[i].getAttribute('data-v');\n"
         "        var nx=parseFloat(x),ny=parseFloat(y),c;\n"
         "        if(!isNaN(nx)&&!isNaN(ny)){c=nx-ny;}else{c=String(x).localeCompare(String(y));}\n"
         "        return asc?c:-c;});\n"
         "      rows.forEach(function(r){body.appendChild(r);});\n"
         "    });\n"
         "  });\n"
         "});\n"
         "</script>\n";
}

void WriteLayerTable(const model::ModelRecord& m, std::ostream& out) {
  std::vector<const output::Column*> cols;
  const auto shown = output::ColumnsFor(m.report.layers);
  for (const char* want : kTableColumns) {
    for (const output::Column* c : shown) {
      if (c->name == want) cols.push_back(c);
    }
  }
  out << "<table class=\"sortable\"><thead><tr>";
  for (const output::Column* c : cols) out << "<th>" << H(c->name) << "</th>";
  out << "</tr></thead><tbody>\n";
  for (const LayerResult& l : m.report.layers) {
    const char* cls = l.status == LayerStatus::kFailed ? " class=\"bad\""
                      : l.status == LayerStatus::kSuccess && l.warning != LayerWarning::kNone
                          ? " class=\"warn\""
                          : "";
    out << "<tr" << cls << ">";
    for (const output::Column* c : cols) {
      const output::Cell cell = c->get(l);
      std::string text, key;
      bool is_text = false;
      if (const auto* i = std::get_if<int64_t>(&cell)) {
        text = key = absl::StrCat(*i);
      } else if (const auto* d = std::get_if<double>(&cell)) {
        text = Fmt(*d);
        key = output::FormatDouble(*d);
      } else if (const auto* s = std::get_if<std::string>(&cell)) {
        text = key = *s;
        is_text = true;
      } else if (const auto* b = std::get_if<bool>(&cell)) {
        text = key = *b ? "true" : "false";
      }
      out << "<td" << (is_text ? " class=\"t\"" : "") << " data-v=\"" << H(key) << "\">" << H(text)
          << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</tbody></table>\n";
}

void WriteSummary(const model::ModelRecord& m, const ReportOptions& o, std::ostream& out) {
  out << "<h2 id=\"model-" << H(m.name) << "\">" << H(m.name) << "</h2>\n<p class=\"muted\">"
      << H(m.source);
  if (!m.report.format.empty()) out << " &middot; " << H(m.report.format);
  if (!m.report.backend.empty()) out << " &middot; backend " << H(m.report.backend);
  if (!m.series.empty()) out << " &middot; series " << H(m.series);
  if (m.target) out << " &middot; " << H(absl::StrFormat("target %.4g", *m.target));
  out << "</p>\n<table><tbody>\n";
  if (m.has_layers) {
    if (!output::HasSummaryValues(m.report.summary)) {
      out << "<tr><td class=\"t\">status</td><td>empty: "
          << H(output::EmptySummaryReason(m.report.summary)) << "; no averages</td></tr>\n";
    }
    for (const output::SummaryField& f : output::SummaryFields(m.report.summary)) {
      out << "<tr><td class=\"t\">" << H(f.name) << "</td><td>"
          << (f.is_count               ? absl::StrCat(static_cast<int64_t>(f.value))
              : std::isfinite(f.value) ? Fmt(f.value)
                                       : std::string("-"))
          << "</td></tr>\n";
    }
  } else {
    for (const auto& [k, v] : m.metrics)
      out << "<tr><td class=\"t\">" << H(k) << "</td><td>" << Fmt(v) << "</td></tr>\n";
  }
  out << "</tbody></table>\n";
  if (!m.has_layers) {
    out << "<p class=\"muted\">This input holds model averages only: no per-layer charts.</p>\n";
    return;
  }
  const model::ModelDiagnostics d = model::DiagnoseLayers(m.report.layers, o.thresholds);
  const std::vector<std::string> warnings = model::DiagnosticWarnings(d, o.thresholds);
  out << "<h3>Diagnostics</h3>\n<ul class=\"warn-list\">\n";
  if (warnings.empty()) {
    out << "<li class=\"ok\">Every analysed layer has alpha between " << o.thresholds.alpha_low
        << " and " << o.thresholds.alpha_high << ": no sign of under- or over-training.</li>\n";
  }
  for (const std::string& w : warnings) out << "<li>" << H(w) << "</li>\n";
  if (!d.traps_checked) {
    out << "<li class=\"muted\">Correlation traps were not checked (analyse with --randomize to "
           "look for "
           "them).</li>\n";
  } else if (d.trap_layers.empty() && d.trap_no_verdict.empty()) {
    out << "<li class=\"ok\">No correlation traps: the shuffled weights of every layer look "
           "random.</li>\n";
  }
  int64_t skipped = m.report.summary.num_skipped;
  if (skipped > 0) {
    out << "<li class=\"muted\">" << skipped
        << " layers were skipped (too small or too large for the size filter; see the "
           "table).</li>\n";
  }
  out << "</ul>\n";
}

}  // namespace

std::vector<ReportFigure> BuildFigures(const ReportData& data, const ReportOptions& options) {
  std::vector<ReportFigure> figs;
  const std::vector<NamedModel> layered = LayeredModels(data);
  if (layered.size() == 1) {
    figs.push_back({"depth", CorrelationFlowPlot(layered), "", std::nullopt});
    figs.push_back({"depth", DepthPlot(layered, "log_spectral_norm"), "", std::nullopt});
    figs.push_back({"depth", DepthPlot(layered, "alpha_weighted"), "", std::nullopt});
  } else if (layered.size() > 1) {
    // Overlaid lines of several models hide each other: one panel per model instead.
    figs.push_back({"depth", {}, "", CorrelationFlowPanels(layered)});
    figs.push_back({"depth", {}, "", DepthPanels(layered, "log_spectral_norm")});
    figs.push_back({"depth", {}, "", DepthPanels(layered, "alpha_weighted")});
  }
  if (!layered.empty()) {
    figs.push_back({"hist", {}, "", HistogramPanels(layered, "alpha", 24)});
    figs.push_back({"hist", {}, "", HistogramPanels(layered, "log_spectral_norm", 24)});
  }
  for (const model::ModelRecord& m : data.models) {
    if (!m.has_layers) continue;
    for (const LayerResult* l : EsdLayers(m, options)) {
      if (auto p = EsdPlot(m.name, *l))
        figs.push_back({"esd", *std::move(p), m.name, std::nullopt});
      if (auto g = FitStabilityPlot(m.name, *l)) figs.push_back({"esd", {}, m.name, *std::move(g)});
    }
  }
  for (const trends::SeriesTrend& s : data.trends) {
    for (const trends::MetricTrend& t : s.metrics) {
      if (!t.x.empty())
        figs.push_back(
            {"trend", TrendScatter(t, s.series, data.target_name), s.series, std::nullopt});
    }
  }
  return figs;
}

void WriteHtmlReport(const ReportData& data, const ReportOptions& options, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>"
      << H(options.title) << "</title>\n";
  WriteCss(out);
  out << "</head><body>\n<h1>" << H(options.title) << "</h1>\n<p class=\"muted\">htsr "
      << H(HTSR_VERSION_STRING) << " &middot; " << data.models.size()
      << " model(s). alpha is the power-law exponent of each layer's eigenvalue spectrum: "
         "2 to 6 is the range of well-trained layers; smaller norms and smaller alpha_weighted "
         "go with better models within a series.</p>\n";
  if (data.models.size() > 1) {
    out << "<p>";
    for (const auto& m : data.models)
      out << "<a href=\"#model-" << H(m.name) << "\">" << H(m.name) << "</a> ";
    out << "</p>\n";
  }
  const std::vector<ReportFigure> figs = BuildFigures(data, options);

  // Several models: the report opens with their ranking (htsr rank), empty models left out.
  if (data.models.size() > 1) {
    std::vector<model::ModelRecord> ranked_models;
    std::vector<std::string> empty;
    for (const model::ModelRecord& m : data.models) {
      if (m.IsEmpty()) {
        empty.push_back(m.name);
      } else {
        ranked_models.push_back(m);
      }
    }
    trends::RankOptions ro;
    ro.target_is_error = data.target_is_error;
    ro.thresholds = options.thresholds;
    if (!data.trends.empty()) ro.target_name = data.target_name;
    const trends::RankResult ranked = trends::RankModels(ranked_models, ro);
    out << "<h2>Ranking</h2>\n<p class=\"muted\">Models ordered by predicted quality, best "
           "first: mean alpha_weighted, lower is better (as <code>htsr rank</code>).</p>\n";
    for (const trends::RankedSeries& s : ranked.series) {
      if (!s.series.empty()) out << "<h3>series " << H(s.series) << "</h3>\n";
      out << "<table class=\"sortable rank\"><thead><tr><th>rank</th><th>model</th>";
      for (const std::string& k : trends::RankMetrics()) out << "<th>" << H(k) << "</th>";
      out << "<th>analysed</th><th>failed</th><th>diagnostics</th></tr></thead><tbody>\n";
      for (const trends::RankedModel& m : s.models) {
        out << "<tr><td data-v=\"" << m.rank << "\">" << (m.rank ? absl::StrCat(m.rank) : "-")
            << "</td><td class=\"t\" data-v=\"" << H(m.name) << "\"><a href=\"#model-" << H(m.name)
            << "\">" << H(m.name) << "</a></td>";
        for (const auto& v : m.values) {
          out << "<td data-v=\"" << (v ? H(output::FormatDouble(*v)) : "") << "\">"
              << (v ? absl::StrFormat("%.3f", *v) : "-") << "</td>";  // as htsr rank prints
        }
        std::vector<std::string> diag;
        if (m.under_trained && *m.under_trained)
          diag.push_back(absl::StrCat(*m.under_trained, " under-trained"));
        if (m.over_trained && *m.over_trained)
          diag.push_back(absl::StrCat(*m.over_trained, " over-trained"));
        if (!m.collapse_against.empty())
          diag.push_back(
              absl::StrCat("scale collapse vs ", absl::StrJoin(m.collapse_against, ", ")));
        out << "<td>" << (m.analysed ? absl::StrCat(*m.analysed) : "-") << "</td><td>"
            << (m.failed ? absl::StrCat(*m.failed) : "-") << "</td><td class=\"t\">"
            << H(absl::StrJoin(diag, "; ")) << "</td></tr>\n";
      }
      out << "</tbody></table>\n";
      if (s.kendall_tau) {
        out << "<p>Kendall tau of the predicted order against " << H(data.target_name) << ": "
            << H(absl::StrFormat("%.2f", *s.kendall_tau)) << " (1 = exactly right).</p>\n";
      }
    }
    if (!empty.empty()) {
      out << "<p class=\"muted\">Left out (no layer analysed, no summary values): "
          << H(absl::StrJoin(empty, ", ")) << "</p>\n";
    }
  }

  // Scale collapse between comparable models.
  if (data.models.size() > 1) {
    const auto collapse =
        model::FindScaleCollapse(data.models, data.target_is_error, options.thresholds);
    out << "<h2>Scale collapse</h2>\n<ul class=\"warn-list\">\n";
    if (collapse.empty()) {
      out << "<li class=\"ok\">No model's norm metrics fall while its alpha does not, among "
             "comparable models (one series, or one architecture).</li>\n";
    }
    for (const auto& c : collapse) out << "<li>" << H(model::DescribeScaleCollapse(c)) << "</li>\n";
    out << "</ul>\n";
  }

  bool any_depth = false;
  for (const auto& f : figs) any_depth |= f.section == "depth";
  if (any_depth) {
    out << "<h2>Across depth</h2>\n<p class=\"muted\">Correlation flow: in well-trained networks "
           "alpha stays "
           "inside the band from the first layer to the last; layers that drift above it learned "
           "little.</p>\n<div class=\"plots\">\n";
    for (const auto& f : figs) {
      if (f.section == "depth") out << f.Svg();
    }
    out << "</div>\n";
  }
  bool any_hist = false;
  for (const auto& f : figs) any_hist |= f.section == "hist";
  if (any_hist) {
    out << "<h2>Distributions</h2>\n<p class=\"muted\">How each model's layers spread over alpha "
           "and over the largest eigenvalue lambda_max, on the same bins for every model.</p>\n"
           "<div class=\"plots\">\n";
    for (const auto& f : figs) {
      if (f.section == "hist") out << f.Svg();
    }
    out << "</div>\n";
  }

  if (!data.trends.empty()) {
    out << "<h2>Trends across models</h2>\n<p class=\"muted\">Least squares of "
        << H(data.target_name)
        << " on each model average; Kendall tau is against accuracy (negative: a smaller metric "
           "goes with a "
           "better model).</p>\n";
    for (const auto& s : data.trends) {
      out << "<h3>" << H(s.series.empty() ? "all models" : s.series) << "</h3>\n"
          << "<table "
             "class=\"sortable\"><thead><tr><th>metric</th><th>models</th><th>slope</"
             "th><th>intercept"
             "</th><th>RMSE</th><th>R^2</th><th>Kendall tau</th><th>off the "
             "trend</th></tr></thead><tbody>\n";
      for (const auto& t : s.metrics) {
        out << "<tr><td class=\"t\" data-v=\"" << H(t.metric) << "\">" << H(t.metric) << "</td>";
        if (t.fit) {
          for (double v : {static_cast<double>(t.fit->n), t.fit->slope, t.fit->intercept,
                           t.fit->rmse, t.fit->r2, t.kendall_tau}) {
            out << "<td data-v=\"" << H(output::FormatDouble(v)) << "\">" << Fmt(v) << "</td>";
          }
          out << "<td class=\"t\" data-v=\"" << t.outliers.size() << "\">"
              << H(absl::StrJoin(t.outliers, ", ")) << "</td>";
        } else {
          out << "<td class=\"t\" colspan=\"7\" data-v=\"\">" << H(t.error) << "</td>";
        }
        out << "</tr>\n";
      }
      out << "</tbody></table>\n";
      if (!s.models_without_target.empty()) {
        out << "<p class=\"muted\">Without a " << H(data.target_name)
            << " value: " << H(absl::StrJoin(s.models_without_target, ", ")) << "</p>\n";
      }
      if (!s.layers_outside.empty()) {
        out << "<p>" << s.layers_outside.size() << " layers have alpha outside ["
            << options.thresholds.alpha_low << ", " << options.thresholds.alpha_high << "].</p>\n";
      }
    }
    out << "<div class=\"plots\">\n";
    for (const auto& f : figs) {
      if (f.section == "trend") out << f.Svg();
    }
    out << "</div>\n";
  }

  for (const model::ModelRecord& m : data.models) {
    WriteSummary(m, options, out);
    if (!m.has_layers) continue;
    out << "<h3>Spectra</h3>\n<p class=\"muted\">Each layer's ESD on log-spaced bins from two "
           "decades below the fitted xmin, with the power-law tail (and the MP bulk with "
           "--mp-fit); beside it the fit's stability: D and alpha for every candidate xmin. A "
           "flat D over a wide xmin range means alpha is poorly determined.</p>\n";
    bool any = false;
    out << "<div class=\"plots\">\n";
    for (const auto& f : figs) {
      if (f.section == "esd" && f.model == m.name) {
        out << f.Svg();
        any = true;
      }
    }
    out << "</div>\n";
    if (!any) {
      out << "<p class=\"muted\">No eigenvalues to draw: result files keep metrics, not spectra. "
             "Run "
             "<code>htsr report MODEL</code> on the checkpoint itself to see the ESDs.</p>\n";
    }
    out << "<h3>Layers</h3>\n<p class=\"muted\">Click a column header to sort.</p>\n";
    WriteLayerTable(m, out);
  }
  WriteScript(out);
  out << "</body></html>\n";
}

}  // namespace htsr::report
