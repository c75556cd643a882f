#include "output/table_writer.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "htsr/thresholds.h"
#include "model/diagnostics.h"
#include "output/summary_fields.h"

namespace htsr::output {
namespace {

std::string Num(double v, int prec = 3) { return absl::StrFormat("%.*f", prec, v); }

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return absl::StrFormat(u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

std::string Note(const LayerResult& r) {
  if (r.status == LayerStatus::kSkipped) return absl::StrCat("skipped: ", r.reason);
  if (r.status == LayerStatus::kFailed) return absl::StrCat("FAILED: ", r.reason);
  return std::string(LayerWarningName(r.warning));
}

}  // namespace

void WriteTable(const model::ModelReport& m, std::ostream& out) {
  out << absl::StrFormat("%s  (%s, %s, %d layers, backend %s, %.2f s)\n\n", m.path, m.format,
                         HumanBytes(m.bytes), m.layers.size(), m.backend, m.seconds);
  size_t name_w = 4;
  for (const auto& r : m.layers) name_w = std::max(name_w, r.plan.name.size());
  name_w = std::min<size_t>(name_w, 48);
  // The columns --mp-fit and --randomize asked for, when some row has them (they used to
  // appear only in CSV/JSON).
  bool mp = false, rand = false, base = false;
  for (const auto& r : m.layers) {
    base |= r.dist_relative.has_value();  // --base: how far each layer moved
    mp |= r.num_spikes.has_value() || r.mp_softrank.has_value();
    rand |= r.num_traps.has_value() || r.rand_num_spikes.has_value();
  }
  auto extra_head = [&]() {
    std::string h;
    if (mp) h += absl::StrFormat("  %6s  %8s", "spikes", "mp_srank");
    if (rand) h += absl::StrFormat("  %5s  %9s", "traps", "rand_dist");
    if (base) h += absl::StrFormat("  %8s  %8s  %8s", "rel_dist", "cka", "d_alpha");
    return h;
  };
  auto opt_int = [](const std::optional<int64_t>& v) {
    return v ? absl::StrCat(*v) : std::string("-");
  };
  auto opt_num = [](const std::optional<double>& v) { return v ? Num(*v) : std::string("-"); };
  auto extra_row = [&](const LayerResult& r) {
    std::string c;
    if (mp) c += absl::StrFormat("  %6s  %8s", opt_int(r.num_spikes), opt_num(r.mp_softrank));
    if (rand) {
      c += absl::StrFormat("  %5s  %9s", opt_int(r.num_traps ? r.num_traps : r.rand_num_spikes),
                           opt_num(r.rand_distance));
    }
    if (base) {
      c += absl::StrFormat("  %8s  %8s  %8s", opt_num(r.dist_relative), opt_num(r.dist_cka),
                           opt_num(r.delta_alpha));
    }
    return c;
  };
  out << absl::StrFormat("%4s  %-*s  %-6s  %13s  %7s  %6s  %8s  %8s  %8s%s  %s\n", "id",
                         static_cast<int>(name_w), "name", "type", "N x M", "alpha", "D", "alpha_w",
                         "log_norm", "log_spec", extra_head(), "warning");
  for (const auto& r : m.layers) {
    std::string name = r.plan.name;
    if (name.size() > name_w) name = "..." + name.substr(name.size() - (name_w - 3));
    const std::string shape = absl::StrCat(r.plan.N, " x ", r.plan.M);
    const bool has = r.status == LayerStatus::kSuccess;
    out << absl::StrFormat(
        "%4d  %-*s  %-6s  %13s  %7s  %6s  %8s  %8s  %8s%s  %s\n", r.plan.layer_id,
        static_cast<int>(name_w), name, std::string(LayerTypeName(r.plan.type)), shape,
        has ? Num(r.alpha) : "-", has ? Num(r.D) : "-", has ? Num(r.alpha_weighted) : "-",
        has ? Num(r.log_norm) : "-", has ? Num(r.log_spectral_norm) : "-", extra_row(r), Note(r));
  }
  const ModelSummary& s = m.summary;
  out << absl::StrFormat(
      "\nsummary: %d analysed, %d skipped, %d failed; %d under-trained (alpha > %g), "
      "%d over-trained (alpha < %g)\n",
      s.num_analyzed, s.num_skipped, s.num_failed, s.num_under_trained, kAlphaUnderTrained,
      s.num_over_trained, kAlphaOverTrained);
  if (!HasSummaryValues(s)) {
    // No averages rather than zeros: an empty model must not look like the best one.
    out << "  status empty: " << EmptySummaryReason(s) << "; no averages (-)\n";
    return;
  }
  for (const auto& f : SummaryFields(s)) {
    if (f.is_count) continue;
    out << absl::StrFormat("  %-18s %10.4f\n", f.name, f.value);
  }
  const model::ModelDiagnostics d = model::DiagnoseLayers(m.layers);
  for (const std::string& w : model::DiagnosticWarnings(d)) out << "  note: " << w << "\n";
  if (d.traps_checked && d.trap_layers.empty()) {
    out << (d.trap_no_verdict.empty() ? "  note: no correlation traps\n"
                                      : "  note: no correlation traps in the other layers\n");
  }
}

}  // namespace htsr::output
