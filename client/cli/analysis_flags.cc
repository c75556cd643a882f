#include "cli/analysis_flags.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"

namespace htsr::cli {

absl::StatusOr<analysis::LayerFilter> LayerFilterFromArgs(const ParsedArgs& args) {
  return analysis::LayerFilter::Parse(args.GetOr("layers", ""));
}

absl::StatusOr<EngineConfig> EngineConfigFromArgs(const ParsedArgs& args) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  EngineConfig c;
  AnalysisOptions& o = c.options;
  HTSR_ASSIGN_OR_RETURN(o.min_evals, args.GetInt("min-evals", o.min_evals, 0, kMax));
  HTSR_ASSIGN_OR_RETURN(o.max_evals, args.GetInt("max-evals", o.max_evals, 0, kMax));
  HTSR_ASSIGN_OR_RETURN(o.max_n, args.GetInt("max-n", o.max_n, 0, kMax));
  if (o.min_evals > o.max_evals) {
    return absl::InvalidArgumentError("--min-evals is larger than --max-evals: nothing to analyse");
  }
  o.all_tensors = args.Has("all-tensors");
  o.reference_layer_set = args.Has("reference-layer-set");
  o.pool = !args.Has("no-pool");
  if (auto ff = args.Get("fix-fingers")) {
    if (*ff != "clip_xmax") {
      return absl::InvalidArgumentError(
          absl::StrCat("--fix-fingers supports clip_xmax, got '", *ff, "'"));
    }
    o.fix_fingers = FixFingers::kClipXmax;
  }
  const std::string fit = args.GetOr("fit", "pl");
  if (fit == "pl") {
    o.fit = FitType::kPowerLaw;
  } else if (fit == "tpl") {
    o.fit = FitType::kTruncatedPowerLaw;
  } else if (fit == "e_tpl") {
    o.fit = FitType::kExtendedTpl;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--fit is pl, tpl or e_tpl, got '", fit, "'"));
  }
  if (o.fit != FitType::kPowerLaw && o.fix_fingers != FixFingers::kNone) {
    return absl::InvalidArgumentError("--fix-fingers works with --fit pl only");
  }
  if (args.Has("xmax")) {
    HTSR_ASSIGN_OR_RETURN(int64_t k, args.GetInt("xmax", 0, -kMax, 0));
    o.xmax_drop = -k;
  }
  o.mp_fit = args.Has("mp-fit");
  o.randomize = args.Has("randomize");
  HTSR_ASSIGN_OR_RETURN(int64_t seed,
                        args.GetInt("seed", 0, 0, std::numeric_limits<int64_t>::max()));
  o.seed = static_cast<uint64_t>(seed);
  o.detx = args.Has("detx");
  o.normalize = args.Has("normalize");
  const std::string prec = args.GetOr("precision", "f64");
  if (prec == "f64") {
    o.precision = Precision::kF64;
  } else if (prec == "f32") {
    o.precision = Precision::kF32;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--precision is f64 or f32, got '", prec, "'"));
  }
  const std::string dev = args.GetOr("device", "cpu");
  absl::StatusOr<Device> device = ParseDevice(dev);
  if (!device.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device is auto, cpu, cuda or cuda:N, got '", dev, "'"));
  }
  c.device = *device;
  HTSR_ASSIGN_OR_RETURN(int64_t lanes, args.GetInt("cuda-lanes", 0, 1, kMaxCudaLanes));
  c.cuda_lanes = static_cast<int>(lanes);
  HTSR_ASSIGN_OR_RETURN(int64_t threads, args.GetInt("threads", 0, 0, 4096));
  c.threads = static_cast<int>(threads);
  return c;
}

}  // namespace htsr::cli
