#include "report/esd_plot_files.h"

#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"
#include "output/atomic_file.h"
#include "output/esd_files.h"
#include "report/report_plots.h"
#include "report/svg_plot.h"

namespace htsr::report {

absl::Status WriteEsdPlotFiles(const std::string& dir, const model::ModelReport& report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--plot ", dir, ": ", ec.message()));
  const std::filesystem::path path(report.path);
  const std::string model_name = path.filename().string().empty()
                                     ? path.parent_path().filename().string()
                                     : path.filename().string();
  const std::string model = output::SafeFileName(model_name);
  for (const LayerResult& r : report.layers) {
    std::optional<PlotSpec> spec = EsdPlot(model_name, r);
    if (!spec.has_value()) continue;
    std::string stem = absl::StrCat(model, ".layer", r.plan.layer_id);
    if (r.slice_id.has_value()) absl::StrAppend(&stem, ".slice", *r.slice_id);
    absl::StrAppend(&stem, ".", output::SafeFileName(r.plan.name));
    HTSR_RETURN_IF_ERROR(output::WriteFileAtomically(
        (std::filesystem::path(dir) / (stem + ".esd.svg")).string(), RenderSvg(*spec)));
    if (r.sigma_mp.has_value()) {
      // The bulk is best judged on linear axes: same histogram and MP curve, no tail fit.
      PlotSpec linear = *spec;
      linear.id += "_linear";
      linear.title = absl::StrCat(linear.title, " (linear, Marchenko-Pastur bulk)");
      linear.x_label = "eigenvalue lambda";
      linear.y_label = "density";
      linear.x_scale = linear.y_scale = Scale::kLinear;
      linear.rules.clear();
      std::erase_if(linear.series, [](const PlotSeries& s) { return s.line && s.dash.empty(); });
      HTSR_RETURN_IF_ERROR(output::WriteFileAtomically(
          (std::filesystem::path(dir) / (stem + ".esd_linear.svg")).string(), RenderSvg(linear)));
    }
  }
  return absl::OkStatus();
}

}  // namespace htsr::report
