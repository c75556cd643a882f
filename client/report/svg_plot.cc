#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace htsr::report {
namespace {

constexpr double kLeft = 64, kRight = 16, kTop = 44, kBottom = 46;

struct Axis {
  Scale scale;
  double lo = 0, hi = 1;    // in transformed units (log10 for log axes)
  double px0 = 0, px1 = 1;  // pixel positions of lo and hi
  double view_min = -std::numeric_limits<double>::infinity();
  double view_max = std::numeric_limits<double>::infinity();
  bool Ok(double v) const {
    return std::isfinite(v) && (scale == Scale::kLinear || v > 0) && v >= view_min && v <= view_max;
  }
  double T(double v) const { return scale == Scale::kLog10 ? std::log10(v) : v; }
  double Px(double v) const { return px0 + (T(v) - lo) / (hi - lo) * (px1 - px0); }
};

std::string Num(double v) { return absl::StrFormat("%.2f", v); }

std::string TickLabel(double v, Scale s) {
  if (s == Scale::kLog10) {
    const double e = std::round(v);
    if (std::fabs(v - e) < 1e-9 && e >= -3 && e <= 4)
      return absl::StrFormat("%g", std::pow(10.0, e));
    if (std::fabs(v - e) < 1e-9) return absl::StrFormat("1e%d", static_cast<int>(e));
    return absl::StrFormat("%.3g", std::pow(10.0, v));
  }
  if (std::fabs(v) < 1e-12) return "0";
  return absl::StrFormat("%g", v);
}

// Range of the drawable values (or the fixed range when both ends are set), padded; a
// degenerate range is widened around its value.
void FitRange(Axis& a, std::vector<double> values, double fixed_lo, double fixed_hi) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  if (a.Ok(fixed_lo) && a.Ok(fixed_hi)) values = {fixed_lo, fixed_hi};
  for (double v : values) {
    if (!a.Ok(v)) continue;
    lo = std::min(lo, a.T(v));
    hi = std::max(hi, a.T(v));
  }
  if (!std::isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::fabs(lo) * 0.1, 0.5);
    lo -= pad;
    hi += pad;
  } else {
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  a.lo = lo;
  a.hi = hi;
}

std::vector<double> Ticks(const Axis& a) {
  if (a.scale == Scale::kLog10) {
    std::vector<double> t;
    const double first = std::ceil(a.lo), last = std::floor(a.hi);
    const double step = std::max(1.0, std::ceil((last - first + 1) / 8));
    for (double e = first; e <= last + 1e-9; e += step) t.push_back(e);
    if (t.size() < 2) return LinearTicks(a.lo, a.hi, 5);  // less than a decade: plain ticks
    return t;
  }
  return LinearTicks(a.lo, a.hi, 6);
}

struct LegendEntry {
  std::string color, label;
  bool box;
  double x, y;  // marker position
};

// The legend in rows under the x-axis label, entries side by side while they fit; text
// widths are estimated (about 6.3 px per character at font-size 11).
std::vector<LegendEntry> LayoutLegend(const PlotSpec& spec, int* rows) {
  std::vector<LegendEntry> e;
  size_t shown = 0;
  for (const PlotSeries& s : spec.series) {
    if (s.label.empty()) continue;
    if (++shown > 12) break;  // a legend taller than the plot helps nobody
    e.push_back({s.color, s.label, false, 0, 0});
  }
  for (const PlotBand& b : spec.bands) {
    if (!b.label.empty()) e.push_back({b.color, b.label, true, 0, 0});
  }
  const double x0 = kLeft, x1 = spec.width - kRight;
  double x = x0, y = spec.height + 6;
  *rows = e.empty() ? 0 : 1;
  for (LegendEntry& l : e) {
    const double w = 22 + 6.3 * static_cast<double>(l.label.size());
    if (x > x0 && x + w > x1) {
      x = x0;
      y += 16;
      ++*rows;
    }
    l.x = x + 5;
    l.y = y;
    x += w + 6;
  }
  return e;
}

}  // namespace

int RenderedHeight(const PlotSpec& spec) {
  int rows = 0;
  LayoutLegend(spec, &rows);
  return spec.height + (rows > 0 ? rows * 16 + 8 : 0);
}

std::string RenderGridSvg(const PlotGrid& g) {
  const int cols = std::max(1, std::min<int>(g.columns, static_cast<int>(g.panels.size())));
  const double head = g.note.empty() ? 28 : 44;
  double cell_w = 0, cell_h = 0;
  for (const PlotSpec& p : g.panels) {
    cell_w = std::max(cell_w, static_cast<double>(p.width));
    cell_h = std::max(cell_h, static_cast<double>(RenderedHeight(p)));
  }
  const int rows = (static_cast<int>(g.panels.size()) + cols - 1) / cols;
  // Wide enough for the title (about 8.4 px per character at font-size 14, bold).
  const double title_w = 8.4 * static_cast<double>(g.title.size());
  const int w = static_cast<int>(std::max({cell_w * cols, 320.0, title_w + 20}));
  const double left = (w - cell_w * cols) / 2;  // panels centred under a wider title
  const int h = static_cast<int>(head + cell_h * rows);
  std::string o = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"plot grid\" width=\"%d\" "
      "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
      XmlEscape(g.id), w, h, w, h);
  absl::StrAppend(&o, "<rect x=\"0\" y=\"0\" width=\"", w, "\" height=\"", h,
                  "\" fill=\"#ffffff\"/>\n<text x=\"", Num(w / 2.0),
                  "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">",
                  XmlEscape(g.title), "</text>\n");
  if (!g.note.empty()) {
    absl::StrAppend(&o, "<text x=\"", Num(w / 2.0),
                    "\" y=\"34\" text-anchor=\"middle\" fill=\"#555\">", XmlEscape(g.note),
                    "</text>\n");
  }
  for (size_t i = 0; i < g.panels.size(); ++i) {
    const double x = left + cell_w * static_cast<double>(i % cols);
    const double y = head + cell_h * static_cast<double>(i / cols);
    // A nested <svg> is its own viewport: the panel renders exactly as it would alone.
    std::string panel = RenderSvg(g.panels[i]);
    const size_t at = panel.find("<svg ");
    panel.insert(at + 5, absl::StrCat("x=\"", Num(x), "\" y=\"", Num(y), "\" "));
    absl::StrAppend(&o, panel);
  }
  absl::StrAppend(&o, "</svg>\n");
  return o;
}

std::string XmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

const std::string& PaletteColor(size_t i) {
  static const std::vector<std::string>* p =
      new std::vector<std::string>{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return (*p)[i % p->size()];
}

void SetRobustYView(PlotSpec& spec, std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.size() < 5) return;
  std::sort(v.begin(), v.end());
  const auto q = [&](double f) {
    return v[static_cast<size_t>(f * static_cast<double>(v.size() - 1))];
  };
  const double lo = q(0.05), hi = q(0.95), width = std::max(hi - lo, 1e-9);
  const double vmin = lo - 3 * width, vmax = hi + 3 * width;
  if (v.front() < vmin) spec.y_view_min = vmin;
  if (v.back() > vmax) spec.y_view_max = vmax;
}

std::vector<double> LinearTicks(double lo, double hi, int target_count) {
  std::vector<double> t;
  if (!(hi > lo) || target_count < 2) return t;
  const double raw = (hi - lo) / target_count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  // Integer multiples of the step, with a tolerance so that lo = -0.3 (-2.9999... steps)
  // still gets its tick.
  const double k0 = std::ceil(lo / step - 1e-9), k1 = std::floor(hi / step + 1e-9);
  for (double k = k0; k <= k1; k += 1) t.push_back(k == 0 ? 0.0 : k * step);
  return t;
}

std::string RenderSvg(const PlotSpec& spec) {
  const double w = spec.width, h = spec.height;
  int legend_rows = 0;
  const std::vector<LegendEntry> legend = LayoutLegend(spec, &legend_rows);
  const int total_h = RenderedHeight(spec);
  Axis ax{spec.x_scale}, ay{spec.y_scale};
  ay.view_min = spec.y_view_min;
  ay.view_max = spec.y_view_max;
  std::vector<double> xs, ys;
  size_t dropped = 0, off_chart = 0;
  for (const PlotSeries& s : spec.series) {
    for (const PlotPoint& p : s.points) {
      if (!ax.Ok(p.x) || !ay.Ok(p.y)) {
        // An empty histogram bin is not a lost point.
        if (s.bars) continue;
        if (std::isfinite(p.y) && std::isfinite(p.x) && (p.y < ay.view_min || p.y > ay.view_max)) {
          ++off_chart;
        } else {
          ++dropped;
        }
        continue;
      }
      xs.push_back(p.x);
      ys.push_back(p.y);
    }
    for (double e : s.bar_edges) xs.push_back(e);
  }
  for (const PlotRule& r : spec.rules) (r.vertical ? xs : ys).push_back(r.at);
  FitRange(ax, xs, spec.x_min, spec.x_max);
  FitRange(ay, ys, spec.y_min, spec.y_max);
  ax.px0 = kLeft;
  ax.px1 = w - kRight;
  ay.px0 = h - kBottom;
  ay.px1 = kTop;

  std::string o = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"plot\" width=\"%d\" "
      "height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
      XmlEscape(spec.id), spec.width, total_h, spec.width, total_h);
  absl::StrAppend(&o, "<rect x=\"0\" y=\"0\" width=\"", w, "\" height=\"", total_h,
                  "\" fill=\"#ffffff\"/>\n");
  absl::StrAppend(&o, "<text x=\"", Num(w / 2),
                  "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" "
                  "font-weight=\"bold\">",
                  XmlEscape(spec.title), "</text>\n");
  std::string note = spec.note;
  if (off_chart > 0) {
    std::string where;
    if (std::isfinite(spec.y_view_min)) where = absl::StrFormat("below %.3g", spec.y_view_min);
    if (std::isfinite(spec.y_view_max)) {
      absl::StrAppend(&where, where.empty() ? "" : " or ",
                      absl::StrFormat("above %.3g", spec.y_view_max));
    }
    absl::StrAppend(&note, note.empty() ? "" : "; ", off_chart, " point(s) off the chart (", where,
                    ")");
  }
  if (dropped > 0) {
    absl::StrAppend(&note, note.empty() ? "" : "; ", dropped,
                    " point(s) not drawable on these axes");
  }
  if (!note.empty()) {
    absl::StrAppend(&o, "<text x=\"", Num(w / 2),
                    "\" y=\"33\" text-anchor=\"middle\" fill=\"#555\">", XmlEscape(note),
                    "</text>\n");
  }
  // Clip data to the plot area so that bands and lines never cover the axes' labels.
  const std::string clip = absl::StrCat("clip-", spec.id);
  absl::StrAppend(&o, "<defs><clipPath id=\"", XmlEscape(clip), "\"><rect x=\"", Num(kLeft),
                  "\" y=\"", Num(kTop), "\" width=\"", Num(w - kLeft - kRight), "\" height=\"",
                  Num(h - kTop - kBottom), "\"/></clipPath></defs>\n");
  // Grid and ticks.
  for (double t : Ticks(ax)) {
    const double px = ax.px0 + (t - ax.lo) / (ax.hi - ax.lo) * (ax.px1 - ax.px0);
    absl::StrAppend(&o, "<line x1=\"", Num(px), "\" y1=\"", Num(kTop), "\" x2=\"", Num(px),
                    "\" y2=\"", Num(h - kBottom), "\" stroke=\"#eeeeee\"/>\n<text x=\"", Num(px),
                    "\" y=\"", Num(h - kBottom + 14), "\" text-anchor=\"middle\">",
                    XmlEscape(TickLabel(t, ax.scale)), "</text>\n");
  }
  for (double t : Ticks(ay)) {
    const double py = ay.px0 + (t - ay.lo) / (ay.hi - ay.lo) * (ay.px1 - ay.px0);
    absl::StrAppend(&o, "<line x1=\"", Num(kLeft), "\" y1=\"", Num(py), "\" x2=\"", Num(w - kRight),
                    "\" y2=\"", Num(py), "\" stroke=\"#eeeeee\"/>\n<text x=\"", Num(kLeft - 6),
                    "\" y=\"", Num(py + 4), "\" text-anchor=\"end\">",
                    XmlEscape(TickLabel(t, ay.scale)), "</text>\n");
  }
  absl::StrAppend(&o, "<rect x=\"", Num(kLeft), "\" y=\"", Num(kTop), "\" width=\"",
                  Num(w - kLeft - kRight), "\" height=\"", Num(h - kTop - kBottom),
                  "\" fill=\"none\" stroke=\"#888888\"/>\n");
  absl::StrAppend(&o, "<text x=\"", Num((kLeft + w - kRight) / 2), "\" y=\"", Num(h - 10),
                  "\" text-anchor=\"middle\">", XmlEscape(spec.x_label), "</text>\n");
  absl::StrAppend(&o, "<text transform=\"translate(14 ", Num((kTop + h - kBottom) / 2),
                  ") rotate(-90)\" text-anchor=\"middle\">", XmlEscape(spec.y_label), "</text>\n");

  absl::StrAppend(&o, "<g clip-path=\"url(#", XmlEscape(clip), ")\">\n");
  for (const PlotBand& b : spec.bands) {
    if (!ay.Ok(b.y0) || !ay.Ok(b.y1)) continue;
    const double y0 = ay.Px(b.y0), y1 = ay.Px(b.y1);
    absl::StrAppend(&o, "<rect x=\"", Num(kLeft), "\" y=\"", Num(std::min(y0, y1)), "\" width=\"",
                    Num(w - kLeft - kRight), "\" height=\"", Num(std::fabs(y1 - y0)), "\" fill=\"",
                    XmlEscape(b.color), "\" fill-opacity=\"0.12\"><title>", XmlEscape(b.label),
                    "</title></rect>\n");
  }
  for (const PlotRule& r : spec.rules) {
    const Axis& a = r.vertical ? ax : ay;
    if (!a.Ok(r.at)) continue;
    const double p = a.Px(r.at);
    if (r.vertical) {
      absl::StrAppend(&o, "<line x1=\"", Num(p), "\" y1=\"", Num(kTop), "\" x2=\"", Num(p),
                      "\" y2=\"", Num(h - kBottom), "\"");
    } else {
      absl::StrAppend(&o, "<line x1=\"", Num(kLeft), "\" y1=\"", Num(p), "\" x2=\"",
                      Num(w - kRight), "\" y2=\"", Num(p), "\"");
    }
    absl::StrAppend(&o, " stroke=\"", XmlEscape(r.color), "\" stroke-dasharray=\"5 4\"><title>",
                    XmlEscape(r.label), "</title></line>\n");
  }
  for (const PlotSeries& s : spec.series) {
    const std::string color = XmlEscape(s.color.empty() ? "#333333" : s.color);
    if (s.bars && s.bar_edges.size() == s.points.size() + 1) {
      // Bars rise from y = 0 when it is in view (fixed ranges pad below it), else from the axis.
      const double base = spec.y_scale == Scale::kLinear && ay.T(0) >= ay.lo && ay.T(0) <= ay.hi
                              ? ay.Px(0)
                              : ay.px0;
      for (size_t i = 0; i < s.points.size(); ++i) {
        const double e0 = s.bar_edges[i], e1 = s.bar_edges[i + 1], y = s.points[i].y;
        if (!ax.Ok(e0) || !ax.Ok(e1) || !ay.Ok(y)) continue;
        const double x0 = ax.Px(e0), x1 = ax.Px(e1), py = ay.Px(y);
        absl::StrAppend(&o, "<rect x=\"", Num(x0), "\" y=\"", Num(py), "\" width=\"",
                        Num(std::max(0.5, x1 - x0)), "\" height=\"", Num(std::max(0.0, base - py)),
                        "\" fill=\"", color, "\" fill-opacity=\"0.55\"/>\n");
      }
      continue;
    }
    if (s.line) {
      std::string d;
      bool pen_down = false;
      for (const PlotPoint& p : s.points) {
        if (!ax.Ok(p.x) || !ay.Ok(p.y)) {
          pen_down = false;
          continue;
        }
        absl::StrAppend(&d, pen_down ? " L" : " M", Num(ax.Px(p.x)), " ", Num(ay.Px(p.y)));
        pen_down = true;
      }
      if (!d.empty()) {
        absl::StrAppend(
            &o, "<path d=\"", d, "\" fill=\"none\" stroke=\"", color, "\" stroke-width=\"",
            Num(s.width), "\"",
            s.dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", XmlEscape(s.dash), "\""),
            "/>\n");
      }
    }
    if (s.markers) {
      for (const PlotPoint& p : s.points) {
        if (!ax.Ok(p.x) || !ay.Ok(p.y)) continue;
        absl::StrAppend(&o, "<circle cx=\"", Num(ax.Px(p.x)), "\" cy=\"", Num(ay.Px(p.y)),
                        "\" r=\"", Num(s.radius), "\" fill=\"", color, "\" fill-opacity=\"0.85\"");
        if (p.tip.empty()) {
          absl::StrAppend(&o, "/>\n");
        } else {
          absl::StrAppend(&o, "><title>", XmlEscape(p.tip), "</title></circle>\n");
        }
      }
    }
  }
  absl::StrAppend(&o, "</g>\n");
  for (const LegendEntry& l : legend) {
    const std::string color = XmlEscape(l.color.empty() ? "#333333" : l.color);
    if (l.box) {
      absl::StrAppend(&o, "<rect x=\"", Num(l.x - 4), "\" y=\"", Num(l.y - 4),
                      "\" width=\"9\" height=\"9\" fill=\"", color, "\" fill-opacity=\"0.35\"/>\n");
    } else {
      absl::StrAppend(&o, "<circle cx=\"", Num(l.x), "\" cy=\"", Num(l.y), "\" r=\"4\" fill=\"",
                      color, "\"/>\n");
    }
    absl::StrAppend(&o, "<text x=\"", Num(l.x + 9), "\" y=\"", Num(l.y + 4), "\">",
                    XmlEscape(l.label), "</text>\n");
  }
  absl::StrAppend(&o, "</svg>\n");
  return o;
}

}  // namespace htsr::report
