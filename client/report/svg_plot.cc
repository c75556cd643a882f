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

// Range of the drawable values, padded; a degenerate range is widened around its value.
void FitRange(Axis& a, std::vector<double> values) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
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

}  // namespace

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
  FitRange(ax, xs);
  FitRange(ay, ys);
  ax.px0 = kLeft;
  ax.px1 = w - kRight;
  ay.px0 = h - kBottom;
  ay.px1 = kTop;

  std::string o = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"plot\" width=\"%d\" "
      "height=\"%d\" "
      "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
      XmlEscape(spec.id), spec.width, spec.height, spec.width, spec.height);
  absl::StrAppend(&o, "<rect x=\"0\" y=\"0\" width=\"", w, "\" height=\"", h,
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
      const double base = ay.px0;
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
                        "\" r=\"3.2\" fill=\"", color, "\" fill-opacity=\"0.85\"");
        if (p.tip.empty()) {
          absl::StrAppend(&o, "/>\n");
        } else {
          absl::StrAppend(&o, "><title>", XmlEscape(p.tip), "</title></circle>\n");
        }
      }
    }
  }
  absl::StrAppend(&o, "</g>\n");
  // Legend, top right inside the plot, one line per labelled series or band.
  double ly = kTop + 14;
  const double lx = w - kRight - 8;
  auto legend = [&](const std::string& color, const std::string& label, bool box) {
    absl::StrAppend(&o, "<text x=\"", Num(lx - 14), "\" y=\"", Num(ly + 4),
                    "\" text-anchor=\"end\">", XmlEscape(label), "</text>\n");
    if (box) {
      absl::StrAppend(&o, "<rect x=\"", Num(lx - 9), "\" y=\"", Num(ly - 4),
                      "\" width=\"9\" height=\"9\" fill=\"", XmlEscape(color),
                      "\" fill-opacity=\"0.35\"/>\n");
    } else {
      absl::StrAppend(&o, "<circle cx=\"", Num(lx - 4), "\" cy=\"", Num(ly), "\" r=\"4\" fill=\"",
                      XmlEscape(color), "\"/>\n");
    }
    ly += 15;
  };
  size_t shown = 0;
  for (const PlotSeries& s : spec.series) {
    if (s.label.empty()) continue;
    if (++shown > 12) break;  // a legend taller than the plot helps nobody
    legend(s.color, s.label, false);
  }
  for (const PlotBand& b : spec.bands) {
    if (!b.label.empty()) legend(b.color, b.label, true);
  }
  absl::StrAppend(&o, "</svg>\n");
  return o;
}

}  // namespace htsr::report
