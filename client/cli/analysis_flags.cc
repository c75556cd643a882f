#include "cli/analysis_flags.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "htsr/status_macros.h"

namespace htsr::cli {

void AddSelectionFlags(ArgParser& p) {
  p.AddFlag({"layers", "SPEC",
             "layers to analyse: ids (3), ranges (2-5), types (dense, conv1d, conv2d), names "
             "(substring or glob); prefix '!' to exclude, e.g. --layers 'conv2d,!downsample'",
             "all"});
  p.AddFlag(
      {"all-tensors", "", "analyse every floating tensor of rank >= 2, not only *.weight", ""});
  p.AddFlag({"min-evals", "N", "skip layers with fewer eigenvalues (M*rf)", "8"});
  p.AddFlag({"max-evals", "N", "skip layers with more eigenvalues (M*rf)", "15000"});
  p.AddFlag({"max-n", "N", "skip layers whose larger side N exceeds this", "50000"});
  p.AddFlag({"reference-layer-set", "",
             "skip exactly the layers weightwatcher 0.7.7 skips (its conv2d N/M exchange in "
             "the size filter, no 3-D tensors); N, M and spectra stay htsr's",
             ""});
}

void AddAnalysisFlags(ArgParser& p) {
  AddSelectionFlags(p);
  p.AddFlag({"fit", "pl|tpl|e_tpl",
             "tail fit: power law, truncated power law (adds Lambda, tpl_R, tpl_p), or E_TPL "
             "(TPL with xmin near the ESD's peak)",
             "pl"});
  p.AddFlag({"fix-fingers", "clip_xmax",
             "refit without the largest eigenvalues when they distort the fit", "off"});
  p.AddFlag({"xmax", "-K", "drop the K largest eigenvalues before fitting", ""});
  p.AddFlag(
      {"mp-fit", "", "fit the Marchenko-Pastur bulk (num_spikes, sigma_mp, mp_softrank)", ""});
  p.AddFlag({"randomize", "",
             "compare with the spectrum of the shuffled weights "
             "(rand_distance, correlation traps)",
             ""});
  p.AddFlag({"seed", "N", "seed for --randomize", "0"});
  p.AddFlag({"detx", "",
             "detX: where the product of the largest (rescaled) eigenvalues drops below 1", ""});
  p.AddFlag({"normalize", "", "divide eigenvalues by N (the paper's X = W^T W / N)", ""});
  p.AddFlag({"no-pool", "", "do not pool conv slices into one spectrum", ""});
  p.AddFlag(
      {"precision", "f64|f32", "eigensolver precision; f32 is faster, alpha to ~1e-4", "f64"});
  p.AddFlag(
      {"device", "auto|cpu|cuda", "compute device; auto uses a GPU when one is visible", "cpu"});
  p.AddFlag({"threads", "N", "worker threads", "all cores"});
}

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
  if (dev == "cpu") {
    c.device = Device::kCpu;
  } else if (dev == "cuda") {
    c.device = Device::kCuda;
  } else if (dev == "auto") {
    c.device = Device::kAuto;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--device is auto, cpu or cuda, got '", dev, "'"));
  }
  HTSR_ASSIGN_OR_RETURN(int64_t threads, args.GetInt("threads", 0, 0, 4096));
  c.threads = static_cast<int>(threads);
  return c;
}

}  // namespace htsr::cli
